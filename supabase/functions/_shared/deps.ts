// The functions' only outside dependency, in one place: `./stack setup` resolves it once
// (`deno cache`), so a machine that cannot download it is told there, not by a function that exits
// while starting. On Supabase the edge runtime fetches it when the function is deployed.
// node-postgres: connections, authentication (SCRAM-SHA-256), TLS and the pool; pg.ts adds the
// pipelined call that runs a statement as a role in one round trip.
export { default as pg } from "npm:pg@8.23.1";
