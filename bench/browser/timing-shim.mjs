// Stands in for bench/lib/timing.mjs when bench/lib/mobilenet-v1.mjs is bundled into a page
// (bench/browser.mjs redirects the import here): the network builder needs only rng, and
// timing.mjs imports node:fs / node:os, which a page has not.
export { rng } from './common.ts';
