"""`travesia worker`: the worker processes that run every piece of background work; `travesia jobs run --once`:
every job due now, in the foreground; `travesia jobs screen`: screen what is due now, in the foreground."""

from __future__ import annotations

import typer

from travesia.core.console import console, handles_errors, settings
from travesia.pipeline import jobs, worker
from travesia.screening import jobs as screening_jobs

app = typer.Typer(help="Background steps: the job queue (huey) and screening.", no_args_is_help=True)


@handles_errors
def run_workers(
    processes: int = typer.Option(1, min=1, max=64, help="Worker processes (each one task at a time)."),
    periodic: bool = typer.Option(True, help="Run the minute's sweep and a field station's sync rounds."),
) -> None:
    """Run the worker processes (the steps after enrolment, re-screening, exports, sync, roll-ups) until Ctrl-C."""
    cfg = settings()
    if processes == 1:
        worker.run_worker(cfg, periodic=periodic)
        return
    supervisor = worker.Supervisor(processes)
    supervisor.start()
    console.print(f"{processes} worker processes started (Ctrl-C stops them).")
    supervisor.wait()


@app.command("run")
@handles_errors
def run(once: bool = typer.Option(False, "--once", help="Run what is due now in this process, then stop.")) -> None:
    """Run the job queue: every job due now with --once, else as `travesia worker`."""
    if not once:
        worker.run_worker(settings())
        return
    ran = worker.build_pipeline(settings()).run_once()
    console.print(f"{ran} jobs run")


@app.command("screen")
@handles_errors
def screen_due() -> None:
    """Screen every encounter that is due, and re-screen after list versions not yet done."""
    pipeline: jobs.Pipeline = worker.build_pipeline(settings())
    total = {"screened": 0, "failed": 0}
    while True:
        counts = pipeline.screen_pending()
        total = {k: total[k] + counts[k] for k in total}
        if not counts["screened"]:
            break
    raised = screening_jobs.rescreen_pending(pipeline.db, pipeline.screener)
    console.print(f"screened {total['screened']}, failed {total['failed']}; re-screening raised {raised} alerts")
