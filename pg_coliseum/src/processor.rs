//! The coliseum processor: a background worker that moves pending Passport
//! entries into DNA within a fraction of a second of their arrival.
//!
//! It only decides *when* to work. The work is the SQL entry point the
//! pg_cron safety net also calls, `coliseum.process_pending(10000)`, each call
//! in its own transaction: exactly-once (SKIP LOCKED claims, the processing
//! mark set with the mutations) is that function's business, so a processor
//! killed at any instant loses nothing and a cron run next to it does no harm.
//!
//! ```text
//! loop: drain  = call process_pending(10000), commit; again at once after a full batch (a backlog),
//!                after one that was not full once coliseum.processor_pace_ms has passed since it began
//!       wait   = on the latch, coliseum.processor_interval_ms (1 s after an error)
//! ```
//!
//! The pace is what keeps a steady stream cheap. A call costs per event (the fold) and per artist it
//! touched (the refresh re-scores each from its last 30 days of hourly buckets), so calling back to back
//! while a few events arrive per call spent most of the processor's time re-scoring the same artists:
//! in `./stack bench passport` (50 artists, 600–1,000 events/s) the processor's CPU per event was 0.78–0.96 ms
//! with calls 1 or 100 ms apart, 0.38 ms 250 ms apart and 0.22–0.25 ms 500 ms apart (docs/coliseum-math.md).
//! An event then waits at most about a pace and a call; an event after a quiet spell, about an
//! interval and a call, as before.
//!
//! One processor per cluster: the running one holds a session advisory lock,
//! which is also how `processor_running()` and `stop_processor()` find it.

use crate::raise;
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, BackgroundWorkerStatus, SignalWakeFlags};
use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

/// `bgw_name` and `bgw_type`: what `pg_stat_activity.backend_type` and the log show.
const WORKER_NAME: &str = "coliseum processor";
/// The call, as it runs and as `pg_stat_activity` shows it.
const PROCESS_PENDING: &CStr = c"select coliseum.process_pending(10000)";
/// The most entries one call takes (`PROCESS_PENDING`'s argument): a call that took this many found a backlog.
const FULL_BATCH: i32 = 10_000;
/// The pause after a failed call, whatever the interval.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);
/// The same failure is logged at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(60);
/// How long `start_processor()` waits for the new worker to take the lock.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `stop_processor()` lets a batch finish before cancelling it, and then waits again.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// The session advisory lock of the running processor, `pg_try_advisory_lock(int4, int4)`:
/// 'Coli' 'Proc'. In `pg_locks`: locktype advisory, classid and objid these, objsubid 2.
const LOCK_KEYS: (i32, i32) = (0x436F_6C69, 0x5072_6F63);

static INTERVAL_MS: GucSetting<i32> = GucSetting::<i32>::new(100);
static PACE_MS: GucSetting<i32> = GucSetting::<i32>::new(500);
static DATABASE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(Some(c"postgres"));

/// Defines the processor's settings. Called from `_PG_init` in every process
/// that loads the library: the postmaster when preloaded, otherwise a session
/// at its first call of a pg_coliseum function, and always the worker itself,
/// which therefore sees `postgresql.conf` and `ALTER SYSTEM` values either way.
pub fn register_settings() {
    GucRegistry::define_int_guc(
        c"coliseum.processor_interval_ms",
        c"How long the coliseum processor waits between polls once it has caught up.",
        c"Once a call of the processor finds nothing pending, it waits this long before it looks again. Read by the \
          processor from the server configuration: change it with ALTER SYSTEM and pg_reload_conf().",
        &INTERVAL_MS,
        1,
        60_000,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"coliseum.processor_pace_ms",
        c"The least time between the starts of two calls of the coliseum processor while it keeps up.",
        c"The processor drains pending Passport entries in batches of 10000: after a full batch (a backlog) it calls \
          again at once; after a batch that was not full, this long after that call began, so that a steady stream \
          is folded and its artists re-scored in batches of this much time rather than a few events at a time. \
          0 calls back to back. Read by the processor from the server configuration: change it with ALTER SYSTEM \
          and pg_reload_conf().",
        &PACE_MS,
        0,
        60_000,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_string_guc(
        c"coliseum.processor_database",
        c"The database the coliseum processor connects to.",
        c"Read by coliseum.start_processor() in the calling session when it starts the processor.",
        &DATABASE,
        GucContext::Suset,
        GucFlags::default(),
    );
}

/// Starts the processor in the database named by `coliseum.processor_database`
/// and waits until it runs. False when a processor is already running.
#[pg_extern]
fn start_processor() -> bool {
    if processor_pid().is_some() {
        return false;
    }
    let database = processor_database();
    let worker = BackgroundWorkerBuilder::new(WORKER_NAME)
        .set_library("pg_coliseum")
        .set_function("coliseum_processor_main")
        .enable_spi_access()
        .set_extra(&database)
        .set_notify_pid(unsafe { pg_sys::MyProcPid })
        .load_dynamic()
        .unwrap_or_else(|_| {
            raise(
                PgSqlErrorCode::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
                "no background worker slot is free for the coliseum processor: raise max_worker_processes".into(),
            )
        });
    let pid = worker.wait_for_startup().unwrap_or_else(|status| {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("the coliseum processor did not start ({status:?})"),
        )
    });
    // Two starters racing both get here; only one worker gets the lock, the other exits.
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        match processor_pid() {
            Some(holder) if holder == pid => return true,
            holder if matches!(worker.pid(), Err(BackgroundWorkerStatus::Stopped)) => {
                if holder.is_some() {
                    return false;
                }
                raise(
                    PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    format!("the coliseum processor (pid {pid}) exited while starting: see the server log"),
                )
            }
            _ if Instant::now() > deadline => raise(
                PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!(
                    "the coliseum processor (pid {pid}) did not start within {} s: see the server log",
                    STARTUP_TIMEOUT.as_secs()
                ),
            ),
            _ => nap(Duration::from_millis(10)),
        }
    }
}

/// Stops the running processor and waits until it has exited. False when
/// none was running.
#[pg_extern]
fn stop_processor() -> bool {
    let Some(pid) = processor_pid() else {
        return false;
    };
    // SIGTERM: the processor commits the batch in hand, if any, and exits.
    signal("pg_terminate_backend", pid);
    if !exited_within(pid, STOP_GRACE) {
        // A batch can wait on a lock for long (a rebuild): cancel it, which rolls it back.
        signal("pg_cancel_backend", pid);
        if !exited_within(pid, STOP_GRACE) {
            raise(
                PgSqlErrorCode::ERRCODE_OBJECT_IN_USE,
                format!(
                    "the coliseum processor (pid {pid}) did not stop within {} s",
                    2 * STOP_GRACE.as_secs()
                ),
            );
        }
    }
    true
}

/// Whether a processor is running, in any database of the cluster.
#[pg_extern]
fn processor_running() -> bool {
    processor_pid().is_some()
}

extension_sql!(
    "-- Starting and stopping a superuser worker is for the owner, its cron jobs and superusers.\n\
     revoke execute on function start_processor(), stop_processor() from public;\n",
    name = "processor_privileges",
    requires = [start_processor, stop_processor],
);

/// The pid of the backend holding the processor lock. `pg_locks` reads the
/// lock table live, not from the transaction's statistics snapshot.
fn processor_pid() -> Option<i32> {
    Spi::get_one_with_args::<i32>(
        "select (select pid from pg_catalog.pg_locks
                  where locktype = 'advisory' and classid = $1::oid and objid = $2::oid and objsubid = 2 and granted
                  limit 1)",
        &[i64::from(LOCK_KEYS.0).into(), i64::from(LOCK_KEYS.1).into()],
    )
    .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("cannot read pg_locks: {e}")))
}

/// The setting, checked here so a typo fails the call instead of the worker.
fn processor_database() -> String {
    let name = DATABASE.get().map(|c| c.to_string_lossy().into_owned()).unwrap_or_default();
    let exists = Spi::get_one_with_args::<bool>(
        "select exists (select from pg_catalog.pg_database where datname = $1 and datallowconn)",
        &[name.clone().into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false);
    if !exists {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_CATALOG_NAME,
            format!("coliseum.processor_database names no database that accepts connections: \"{name}\""),
        );
    }
    name
}

fn signal(function: &str, pid: i32) {
    Spi::run_with_args(&format!("select pg_catalog.{function}($1)"), &[pid.into()])
        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("{function}({pid}): {e}")));
}

/// Polls the process array: the lock is released before the process is gone.
fn exited_within(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while !unsafe { pg_sys::BackendPidGetProc(pid) }.is_null() {
        if Instant::now() > deadline {
            return false;
        }
        nap(Duration::from_millis(10));
    }
    true
}

/// Sleeps on the latch, so that a cancel or the postmaster's death ends the wait.
fn nap(duration: Duration) {
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            duration.as_millis() as _,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
    }
    check_for_interrupts!();
}

/// The worker's entry point, named in `start_processor`'s registration.
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn coliseum_processor_main(_arg: pg_sys::Datum) {
    // pgrx's SIGTERM handler only sets a flag and the latch: a batch in flight
    // is finished and committed, then the loop ends (see stop_processor).
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    let database = BackgroundWorker::get_extra();
    BackgroundWorker::connect_worker_to_spi(Some(database), None);

    let claimed = in_transaction(|| {
        Spi::get_one_with_args::<bool>(
            "select pg_catalog.pg_try_advisory_lock($1, $2)",
            &[LOCK_KEYS.0.into(), LOCK_KEYS.1.into()],
        )
    });
    match claimed {
        Ok(Ok(Some(true))) => {}
        Ok(Ok(_)) => {
            log!("{WORKER_NAME}: another processor is running; this one exits");
            return;
        }
        Ok(Err(e)) => {
            warning!("{WORKER_NAME}: cannot take the processor lock: {e}");
            return;
        }
        Err(failure) => {
            warning!("{WORKER_NAME}: cannot take the processor lock: {}", failure.message);
            return;
        }
    }
    log!("{WORKER_NAME}: started in database \"{database}\"");

    let mut report = FailureReport::default();
    loop {
        let pause = match drain() {
            Ok(()) => {
                report.recovered();
                Duration::from_millis(INTERVAL_MS.get() as u64)
            }
            Err(failure) => {
                report.failed(database, failure);
                ERROR_BACKOFF
            }
        };
        // No transaction is open here: each batch committed or rolled back.
        if !wait(pause) {
            break;
        }
        if BackgroundWorker::sighup_received() {
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
    }
    log!("{WORKER_NAME}: stopped");
}

/// Calls `process_pending` until it finds nothing pending (or a stop is
/// requested), one transaction per call. A full batch is followed by the next
/// call at once (a backlog drains without pausing); after one that was not
/// full, the next call begins `coliseum.processor_pace_ms` after it began, so
/// that a steady stream is folded a pace's worth at a time. An event waits for
/// at most about a pace and a call.
fn drain() -> Result<(), Failure> {
    loop {
        let started = Instant::now();
        report_activity(pg_sys::BackendState::STATE_RUNNING, PROCESS_PENDING);
        let outcome = in_transaction(|| Spi::get_one::<i32>(PROCESS_PENDING.to_str().expect("ASCII")));
        report_activity(pg_sys::BackendState::STATE_IDLE, c"");
        let processed = outcome?.map_err(|e| Failure::other(e.to_string()))?.unwrap_or(0);
        if processed == 0 || shutdown_requested() {
            return Ok(());
        }
        if processed < FULL_BATCH {
            let pace = Duration::from_millis(PACE_MS.get().max(0) as u64);
            if let Some(rest) = pace.checked_sub(started.elapsed()).filter(|rest| !rest.is_zero()) {
                if !wait(rest) {
                    return Ok(());
                }
            }
        }
    }
}

/// Waits on the latch; false once the worker should exit (SIGTERM or the
/// postmaster's death). A cancel that arrives while idle has nothing to
/// cancel: without the catch it would end the worker.
fn wait(pause: Duration) -> bool {
    let alive = PgTryBuilder::new(|| BackgroundWorker::wait_latch(Some(pause)))
        .catch_others(|_| true)
        .execute();
    alive && !shutdown_requested()
}

/// Runs `body` in a transaction of its own and commits. A Postgres error
/// aborts the transaction and comes back as `Err`, so the worker carries on
/// (`BackgroundWorker::transaction` alone would let it end the process).
fn in_transaction<R>(body: impl FnOnce() -> R + std::panic::UnwindSafe + std::panic::RefUnwindSafe) -> Result<R, Failure> {
    PgTryBuilder::new(|| Ok(BackgroundWorker::transaction(body)))
        .catch_others(|error| {
            unsafe { pg_sys::AbortCurrentTransaction() };
            Err(Failure::from_error(error))
        })
        .execute()
}

fn report_activity(state: pg_sys::BackendState::Type, query: &CStr) {
    unsafe { pg_sys::pgstat_report_activity(state, query.as_ptr()) };
}

fn shutdown_requested() -> bool {
    unsafe { std::ptr::addr_of!(pg_sys::ShutdownRequestPending).read_volatile() != 0 }
}

/// Why a drain failed.
struct Failure {
    /// `coliseum.process_pending` (or its schema) does not exist in the database yet.
    missing: bool,
    message: String,
}

impl Failure {
    fn from_error(error: CaughtError) -> Failure {
        let report = match &error {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) | CaughtError::RustPanic { ereport: r, .. } => r,
        };
        let missing = matches!(
            report.sql_error_code(),
            PgSqlErrorCode::ERRCODE_UNDEFINED_FUNCTION | PgSqlErrorCode::ERRCODE_INVALID_SCHEMA_NAME
        );
        Failure {
            missing,
            message: report.message().to_string(),
        }
    }

    fn other(message: String) -> Failure {
        Failure { missing: false, message }
    }
}

/// Logs failures at WARNING, but the same one at most once a minute: a
/// processor that fails every second would otherwise flood the log.
#[derive(Default)]
struct FailureReport {
    last: Option<(String, Instant)>,
    repeats: u64,
}

impl FailureReport {
    fn failed(&mut self, database: &str, failure: Failure) {
        let text = if failure.missing {
            format!(
                "coliseum.process_pending(integer) is not installed in database \"{database}\" ({}); retrying every second",
                failure.message
            )
        } else {
            format!("coliseum.process_pending failed: {}; retrying in 1 s", failure.message)
        };
        if let Some((last, at)) = &self.last {
            if *last == text && at.elapsed() < REPORT_EVERY {
                self.repeats += 1;
                return;
            }
        }
        let repeats = std::mem::take(&mut self.repeats);
        if repeats > 0 {
            warning!("{WORKER_NAME}: {text} (failed {repeats} more times since the last report)");
        } else {
            warning!("{WORKER_NAME}: {text}");
        }
        self.last = Some((text, Instant::now()));
    }

    fn recovered(&mut self) {
        if self.last.take().is_some() {
            log!("{WORKER_NAME}: process_pending succeeded again");
            self.repeats = 0;
        }
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn yes(sql: &str) -> bool {
        Spi::get_one::<bool>(sql).expect("query runs") == Some(true)
    }

    fn seconds(sql: &str) -> f64 {
        Spi::get_one::<f64>(sql).expect("query runs").expect("not null")
    }

    /// Polls `sql` every 50 ms for up to `timeout_s`.
    fn eventually(sql: &str, timeout_s: f64) -> bool {
        let polls = (timeout_s / 0.05) as usize;
        for _ in 0..polls {
            if yes(sql) {
                return true;
            }
            Spi::run("select pg_sleep(0.05)").unwrap();
        }
        yes(sql)
    }

    /// Runs `sql` in a session of its own through dblink, so that it commits
    /// while this test's transaction (which is rolled back) is still open: the
    /// worker only sees committed functions.
    fn committed(sql: &str) {
        Spi::run_with_args(
            "select dblink_exec(format('host=%s port=%s dbname=%s user=%s',
                                       current_setting('unix_socket_directories'), current_setting('port'),
                                       current_database(), current_user), $1)",
            &[sql.into()],
        )
        .expect("dblink_exec runs");
    }

    /// The stub stands in for the real processor function: it logs each call
    /// (committed by the worker, so this test reads it), returns a full batch
    /// 10 times and a partial one 10 times, fails once, then finds nothing to do.
    const STUB: &str = "
        create schema coliseum;
        create sequence coliseum.stub_calls;
        create table coliseum.stub_log (call bigint primary key, max_entries int, at timestamptz default clock_timestamp());
        create function coliseum.process_pending(max_entries int default 5000) returns int language plpgsql as $stub$
        declare
          n bigint := nextval('coliseum.stub_calls');
        begin
          insert into coliseum.stub_log (call, max_entries) values (n, max_entries);
          if n = 21 then
            raise exception 'stub: failing on purpose';
          end if;
          return case when n <= 10 then max_entries when n <= 20 then 7 else 0 end;
        end
        $stub$;";

    fn at(call: i64) -> String {
        format!("(select extract(epoch from at)::float8 from coliseum.stub_log where call = {call})")
    }

    #[pg_test]
    fn the_processor_starts_drains_survives_errors_and_stops() {
        Spi::run("create extension if not exists dblink").unwrap();
        Spi::run("select set_config('coliseum.processor_database', current_database(), true)").unwrap();
        assert!(!yes("select processor_running()"));
        assert!(!yes("select stop_processor()"));

        assert!(yes("select start_processor()"), "starts");
        assert!(yes("select processor_running()"));
        assert!(!yes("select start_processor()"), "a second start finds it running");
        // pg_stat_activity is read once per transaction unless the snapshot is cleared.
        Spi::run("select pg_stat_clear_snapshot()").unwrap();
        assert!(yes("select count(*) = 1 and bool_and(datname = current_database())
               from pg_stat_activity where backend_type = 'coliseum processor'"));

        // No coliseum.process_pending yet: the worker warns, backs off and keeps running.
        Spi::run("select pg_sleep(1.5)").unwrap();
        assert!(yes("select processor_running()"), "survives a missing function");

        committed(STUB);
        assert!(
            eventually("select exists (select from coliseum.stub_log where call = 23)", 30.0),
            "calls the stub again after its failure"
        );
        assert!(yes("select bool_and(max_entries = 10000) from coliseum.stub_log"));
        // The 10 full batches run back to back (paced, their 10 gaps would take at least 5 s) ...
        assert!(
            seconds(&format!("select {} - {}", at(11), at(1))) < 2.5,
            "drains a backlog without pausing"
        );
        // ... the calls that find less than a full batch begin the pace (500 ms) apart ...
        assert!(
            seconds(&format!("select {} - {}", at(20), at(11))) >= 9.0 * 0.5 - 0.05,
            "paces the calls that find less than a full batch"
        );
        // ... the failure costs a 1 s back-off, and after an idle call the processor waits the interval.
        assert!(
            seconds(&format!("select {} - {}", at(22), at(20))) >= 1.0,
            "backs off after an error"
        );
        assert!(
            seconds(&format!("select {} - {}", at(23), at(22))) >= 0.09,
            "waits the interval when idle"
        );

        assert!(yes("select stop_processor()"), "stops");
        assert!(!yes("select processor_running()"));
        Spi::run("select pg_stat_clear_snapshot()").unwrap();
        assert!(!yes(
            "select exists (select from pg_stat_activity where backend_type = 'coliseum processor')"
        ));
        let calls = "select max(call) from coliseum.stub_log";
        let before = Spi::get_one::<i64>(calls).unwrap();
        Spi::run("select pg_sleep(0.3)").unwrap();
        assert_eq!(Spi::get_one::<i64>(calls).unwrap(), before, "no calls after the stop");
        assert!(!yes("select stop_processor()"));

        // A new processor can start after a stop.
        assert!(yes("select start_processor()"));
        assert!(yes("select stop_processor()"));
        // The stub stays: dropping it would wait for this transaction's locks on
        // stub_log, and every `cargo pgrx test` run starts from a new database.
    }

    #[pg_test(error = "coliseum.processor_database names no database that accepts connections: \"no_such_database\"")]
    fn an_unknown_database_is_refused_before_starting() {
        Spi::run("set local coliseum.processor_database = 'no_such_database'").unwrap();
        Spi::run("select start_processor()").unwrap();
    }

    #[pg_test]
    fn settings_and_their_defaults() {
        let interval = Spi::get_one::<String>("select current_setting('coliseum.processor_interval_ms')").unwrap();
        assert_eq!(interval.as_deref(), Some("100ms"));
        let pace = Spi::get_one::<String>("select current_setting('coliseum.processor_pace_ms')").unwrap();
        assert_eq!(pace.as_deref(), Some("500ms"));
        let database = Spi::get_one::<String>("select current_setting('coliseum.processor_database')").unwrap();
        assert_eq!(database.as_deref(), Some("postgres"));
        let context = Spi::get_one::<String>(
            "select string_agg(name || ':' || context, ',' order by name) from pg_settings where name like 'coliseum.processor%'",
        )
        .unwrap();
        assert_eq!(
            context.as_deref(),
            Some("coliseum.processor_database:superuser,coliseum.processor_interval_ms:sighup,coliseum.processor_pace_ms:sighup")
        );
    }

    #[pg_test]
    fn only_privileged_roles_start_and_stop() {
        Spi::run("create role coliseum_test_app").unwrap();
        assert!(!yes(
            "select has_function_privilege('coliseum_test_app', 'start_processor()', 'execute')"
        ));
        assert!(!yes(
            "select has_function_privilege('coliseum_test_app', 'stop_processor()', 'execute')"
        ));
        assert!(yes(
            "select has_function_privilege('coliseum_test_app', 'processor_running()', 'execute')"
        ));
    }
}
