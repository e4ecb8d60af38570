// End of static data: the host starts its arena above it, so a kernel that gains static
// data (e.g. a lookup table) can never be overwritten by weights. Every build exports it.
export function heap_base(): usize {
  return __heap_base;
}
