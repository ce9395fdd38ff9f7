// A scripted runtime client that breaks the Runtime API rules on purpose and reports what the
// emulator answered, as the body of its next valid response.
const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

async function post(path, body, headers = {}) {
  const res = await fetch(api + path, { method: 'POST', body, headers });
  return { status: res.status, body: await res.json() };
}

async function next() {
  const res = await fetch(`${api}/invocation/next`);
  return {
    id: res.headers.get('lambda-runtime-aws-request-id'),
    headers: Object.fromEntries(res.headers),
    event: await res.text(),
  };
}

const first = {
  responseBeforeNext: await post('/invocation/some-id/response', '{}'),
};
const one = await next();
first.headers = one.headers;
first.event = one.event;
first.initErrorAfterNext = await post('/init/error', '{}', {
  'Lambda-Runtime-Function-Error-Type': 'Runtime.Late',
});
first.wrongId = await post('/invocation/not-the-id/response', '{}');
first.accepted = await post(`/invocation/${one.id}/response`, JSON.stringify(first));
const second = { duplicate: await post(`/invocation/${one.id}/response`, '{}') };

const two = await next();
second.errorAccepted = await post(
  `/invocation/${two.id}/error`,
  JSON.stringify({ errorType: 'FromBody', errorMessage: 'typed by the body' }),
);
const three = await next();
await post(`/invocation/${three.id}/response`, JSON.stringify(second));

const four = await next();
await post(`/invocation/${four.id}/response`, '{}', { 'Lambda-Runtime-Function-Response-Mode': 'bogus' });

// Two /next at once, while no event is coming: one of them is refused at once and the other keeps
// waiting. The test sends the fifth event only after this line is printed.
const both = [fetch(`${api}/invocation/next`), fetch(`${api}/invocation/next`)];
const settled = await Promise.race(both.map((request, index) => request.then((res) => ({ res, index }))));
const fifth = { refused: { status: settled.res.status, body: await settled.res.json() } };
console.log('probe: one of two concurrent /next refused');
const taken = await both[1 - settled.index];
fifth.takenStatus = taken.status;
await taken.text();
await post(
  `/invocation/${taken.headers.get('lambda-runtime-aws-request-id')}/response`,
  JSON.stringify(fifth),
);
await next();
