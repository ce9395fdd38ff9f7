export interface WordCountEvent {
  text: string;
}

export const handler = async (event: WordCountEvent): Promise<{ words: number; longest: string }> => {
  const words = event.text.split(/\s+/).filter(Boolean);
  const longest = words.reduce((a, b) => (b.length > a.length ? b : a), '');
  return { words: words.length, longest };
};
