// An echo; `holdMs` keeps the instance busy that long first (the bench's scale-out case).
exports.handler = async (event) => {
  if (event.holdMs) await new Promise((resolve) => setTimeout(resolve, event.holdMs));
  return { echo: event };
};
