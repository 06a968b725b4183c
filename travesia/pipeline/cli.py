"""`travesia jobs run`: huey's own consumer for the background steps, as a separate process (the server runs
them in a thread by default); `travesia jobs screen`: screen what is due now, in the foreground."""

from __future__ import annotations

import typer

from travesia.biometrics import service as biometrics
from travesia.core.console import console, database, handles_errors, settings
from travesia.pipeline import jobs
from travesia.screening import service as screening

app = typer.Typer(help="Background steps: the job queue (huey) and screening.", no_args_is_help=True)


def _pipeline() -> jobs.Pipeline:
    cfg = settings()
    return jobs.Pipeline(
        database(cfg),
        biometrics.Biometrics.from_settings(cfg),
        screening.Screener(),
        jobs.make_queue(cfg.sqlalchemy_url, str(cfg.data_dir)),
    )


@app.command("run")
@handles_errors
def run(workers: int = typer.Option(1, min=1, max=16)) -> None:
    """Run huey's consumer until Ctrl-C (thread workers)."""
    pipeline = _pipeline()
    pipeline.queue.create_consumer(workers=workers, worker_type="thread").run()


@app.command("screen")
@handles_errors
def screen_due() -> None:
    """Screen every encounter that is due, and re-screen after list versions not yet done."""
    pipeline = _pipeline()
    total = {"screened": 0, "failed": 0}
    while True:
        counts = pipeline.screen_pending()
        total = {k: total[k] + counts[k] for k in total}
        if not counts["screened"]:
            break
    raised = screening.rescreen_pending(pipeline.db, pipeline.screener)
    console.print(f"screened {total['screened']}, failed {total['failed']}; re-screening raised {raised} alerts")
