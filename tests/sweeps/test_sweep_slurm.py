"""The Slurm example (conf/hydra/launcher/slurm.yaml), end to end on a stand-in for Slurm.

There is no cluster here, so `sbatch`, `srun` and `sacct` are small scripts on PATH that do what
Slurm would: accept the job array submitit writes, run each task with Slurm's environment, and
report the tasks done. Everything else is the real thing: Hydra's submitit_slurm launcher,
submitit's sbatch script and job pickles, linreg's jobs and the sweep summary.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

SBATCH = r'''
import os, re, sys, time
script = sys.argv[-1]
text = open(script).read()
open(os.path.join(os.path.dirname(__file__), "submitted.sh"), "w").write(text)
if os.fork() == 0:  # the "cluster": runs the array's tasks once submitit has stored them
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    first, last = map(int, re.search(r"#SBATCH --array=(\d+)-(\d+)", text).groups())
    folder = re.search(r"_submit (\S+)%j", text).group(1)
    for task in range(first, last + 1):
        while not os.path.exists(f"{folder}4242_{task}/4242_{task}_submitted.pkl"):
            time.sleep(0.1)
        env = dict(os.environ, SLURM_JOB_ID=f"{4300 + task}", SLURM_ARRAY_JOB_ID="4242",
                   SLURM_ARRAY_TASK_ID=str(task), SLURM_NTASKS="1", SLURM_JOB_NUM_NODES="1",
                   SLURM_NODEID="0", SLURM_JOB_NODELIST="localhost", SLURM_PROCID="0",
                   SLURM_LOCALID="0")
        os.spawnvpe(os.P_WAIT, "bash", ["bash", script], env)
    os._exit(0)
print("Submitted batch job 4242")
'''

SRUN = r'''
import os, subprocess, sys
job = os.environ["SLURM_ARRAY_JOB_ID"] + "_" + os.environ["SLURM_ARRAY_TASK_ID"]
names = {"%A": os.environ["SLURM_ARRAY_JOB_ID"], "%a": os.environ["SLURM_ARRAY_TASK_ID"],
         "%j": job, "%t": "0"}
args, logs = sys.argv[1:], {}
while args[0].startswith("--"):
    flag = args.pop(0)
    if flag in ("--output", "--error"):
        logs[flag] = args.pop(0)
        for key, value in names.items():
            logs[flag] = logs[flag].replace(key, value)
args = [a.replace("%j", job) for a in args]
with open(logs["--output"], "a") as out, open(logs["--error"], "a") as err:
    sys.exit(subprocess.run(args, stdout=out, stderr=err).returncode)
'''

SACCT = r'''
import sys
print("JobID|State|NodeList")
for job in sys.argv[sys.argv.index("-j") + 1].split(","):
    print(f"{job}|COMPLETED|localhost")
'''


def test_slurm_example_submits_a_job_array_and_summarises_it(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("sbatch", SBATCH), ("srun", SRUN), ("sacct", SACCT),
                       ("scancel", "")):
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n{body}")
        path.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("LINREG_DEBUG", "HYDRA_FULL_ERROR")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "linreg"), "-m", "hydra/launcher=slurm",
         "optimizer.lr=0.05,0.1", "train.epochs=2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (sweep,) = tmp_path.glob("outputs/sweeps/*/*")
    with open(sweep / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["folder"], r["status"]) for r in rows] == [("0_lr=0.05", "ok"), ("1_lr=0.1", "ok")]
    script = (bin_dir / "submitted.sh").read_text()
    for line in ("#SBATCH --array=0-1%2", "#SBATCH --time=20", "#SBATCH --cpus-per-task=2",
                 "#SBATCH --mem=4GB", "#SBATCH --job-name=linreg"):
        assert line in script.splitlines()
    # the tasks run this same environment's Python, so the nodes must see it at this path
    assert f"{Path(sys.executable).parent}/python" in script
    assert " -u -m submitit.core._submit " in script
    assert (sweep / ".submitit" / "4242_1" / "4242_1_0_result.pkl").is_file()
