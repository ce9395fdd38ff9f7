// The memory-limit tests' function: keeps `mb` MB of Buffers (outside the V8 heap, so only the
// emulator's resident-size watch can stop it), optionally holding on `holdMs` before answering.
const kept = [];

export const handler = async (event) => {
  if (event.mb) kept.push(Buffer.alloc(event.mb * 1024 * 1024, 1));
  if (event.holdMs) await new Promise((resolve) => setTimeout(resolve, event.holdMs));
  return { pid: process.pid };
};
