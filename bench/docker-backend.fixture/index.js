exports.handler = async (event) => ({ echo: event });
