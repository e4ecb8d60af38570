export function f32_placeholder(): i32 { return 1; }
