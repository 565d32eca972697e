// CPU seconds per 1000 requests, per process, for N concurrent clients on ticket-validate (forged token: no DB) or a real path.
import { db, newUser } from "./tests/lib/stack.ts";
const sql = db(2);
const user = await newUser(sql);
if (Deno.args[2] === "hs256") { const { mintToken } = await import("./tests/lib/stack.ts"); user.token = await mintToken({ sub: user.id, role: "authenticated", aud: "authenticated", exp: Math.floor(Date.now() / 1000) + 3600 }, "hs256"); }
const health = await (await fetch(`${Deno.env.get("SUPABASE_URL")}/_stack/health`)).json();
const fnPorts: number[] = health.instances[Deno.args[0]];
function pidsOnPort(port: number): number[] {
  const out = new TextDecoder().decode(new Deno.Command("ss", { args: ["-ltnpH", `sport = :${port}`] }).outputSync().stdout);
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}
const gw = pidsOnPort(Number(new URL(Deno.env.get("SUPABASE_URL")!).port));
const fns = fnPorts.flatMap(pidsOnPort);
const bouncer = pidsOnPort(Number(new URL(Deno.env.get("BUCKETS_DB_URL")!).port));
const pgMain = pidsOnPort(Number(new URL(Deno.env.get("SUPABASE_DB_URL")!).port));
function cpu(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
function pgCpu(): number { // postmaster's children
  const kids = new TextDecoder().decode(new Deno.Command("pgrep", { args: ["-P", String(pgMain[0])] }).outputSync().stdout).trim().split("\n").map(Number);
  return kids.reduce((s, p) => { try { return s + cpu(p); } catch { return s; } }, 0);
}
const self = Deno.pid;
const snap = () => ({ gateway: gw.reduce((s, p) => s + cpu(p), 0), functions: fns.reduce((s, p) => s + cpu(p), 0), pgbouncer: bouncer.reduce((s, p) => s + cpu(p), 0), postgres: pgCpu(), client: cpu(self) });
const direct = Deno.args[1] === "direct";
const N = 2000, C = 16;
const body = Deno.args[0] === "ticket-validate"
  ? JSON.stringify({ token: "BKT1.XQx6Uo8-SxqcbS5_ipsMHQAAAAFrSdI8AQ.Ds8oeeKhk_cZ6BDVnFXK66mF2O9xVrN8-Tq-oorGD_FJ-Yyd43yrlpfoJw1ue_--JW7Fpsg999L8AKBNfk9eAg", event_id: crypto.randomUUID(), gate: "g" })
  : JSON.stringify({ kind: "audio.play", client_event_id: "x", payload: { track_id: crypto.randomUUID(), duration_ms: 30000 } });
let next = 0;
const before = snap(); const t0 = performance.now();
await Promise.all(Array.from({ length: C }, async (_, c) => {
  while (next++ < N) {
    const url = direct ? `http://127.0.0.1:${fnPorts[c % fnPorts.length]}/${Deno.args[0]}` : `${Deno.env.get("SUPABASE_URL")}/functions/v1/${Deno.args[0]}`;
    const r = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" }, body });
    await r.text();
  }
}));
const secs = (performance.now() - t0) / 1000; const after = snap();
const per = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, ((v - (before as any)[k]) / N * 1000).toFixed(3) + " ms"]));
console.log(Deno.args.join(" "), `${(N / secs).toFixed(0)}/s`, "CPU per request:", per);
await sql.end();
