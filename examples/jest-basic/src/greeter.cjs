// A function whose dependency comes from a layer: `greeting` lives in the layer's
// nodejs/node_modules, which Lambda mounts under /opt and puts on NODE_PATH.
const { greet } = require('greeting');

exports.handler = async (event) => {
  if (event.name !== undefined && typeof event.name !== 'string') {
    throw new TypeError('event.name must be a string');
  }
  return { message: greet(event.name ?? 'world') };
};
