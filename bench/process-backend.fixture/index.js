// The handler both sides of the process-backend bench run: small event in, small object out.
exports.handler = async (event) => ({ ok: true, n: event.n });
