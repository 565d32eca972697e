// The functions' only outside dependency, in one place: `./stack setup` resolves it once
// (`deno cache`), so a machine that cannot download it is told there, not by a function that exits
// while starting. On Supabase the edge runtime fetches it when the function is deployed.
export { default as postgres } from "npm:postgres@3.4.9";
