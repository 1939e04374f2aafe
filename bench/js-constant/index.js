// Benchmark baseline for cache hits (issue 26): the JS twin of ceiling/, a Worker that answers
// every request with the same JSON body (`body.txt`, a copy of ceiling/body.json written by
// bench/bench.mjs, imported as text: a module constant). What any Worker answering from memory
// costs at the least; beside ceiling/ it measures the `worker` crate's own cost per request.

import BODY from './body.txt';

export default {
  fetch() {
    return new Response(BODY, { headers: { 'content-type': 'application/json' } });
  },
};
