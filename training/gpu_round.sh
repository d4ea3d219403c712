#!/bin/bash
# One training round on a lent GPU, in one command that ends in time:
#   teachers (recipe teacher) side by side, then two students reading them online (recipe v6kd,
#   teacher weight 0.7 and 0.9), every run fitted to its time budget (--budget-s).
# Before: python -m training.pack --out PACKED (the data travels packed; ../shared does not).
# After: OUT holds each student's last EMA checkpoint, each teacher in two float16 parts
#   (python -m training.parts join), the logs, and history of every run; every file < 16 MB.
# Env: OUT (results folder, required), PACKED (.lease/data), TEACHERS (1), TB (300 s a teacher),
#   SB (150 s a student), GRACE (45 s past a budget before a run is stopped: start-up, checkpoints),
#   PY (python3), DEV (cuda), EXTRA (more training flags, e.g. for a test).
# Measured on one H200 (2026-11-30): a teacher epoch at batch 256 took 3.8 s with two teachers
# side by side; 47 epochs in 200 s reached 69.9 % on PublicTest, no better than the student.
set -u
: "${OUT:?set OUT to the results folder}"
export PYTHONUNBUFFERED=1 PYTHONPATH=.
PY=${PY:-python3}; DEV=${DEV:-cuda}; TB=${TB:-300}; SB=${SB:-150}; TEACHERS=${TEACHERS:-1}
PACKED=${PACKED:-.lease/data}; EXTRA=${EXTRA:-}; GRACE=${GRACE:-45}
W=$(mktemp -d); mkdir -p "$OUT"
T0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
summary() { tr '\r' '\n' < "$1" | grep -h "teachers:\|budget\|epoch [0-9]*:\|done in\|Error\|error" | cut -c1-240 | tail -4; }
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
$PY -m training.pack --unpack "$PACKED" --to "$W/fer.npz" 2>&1 | tail -1
stamp unpacked
for s in $(seq 1 "$TEACHERS"); do
  timeout $((TB + GRACE)) $PY -m training.train --recipe teacher --seed "$s" --budget-s "$TB" --device "$DEV" \
    --threads 4 --data "$W/fer.npz" --out-dir "$W/t$s" $EXTRA > "$W/t$s.log" 2>&1 &
done
wait
stamp teachers done
for s in $(seq 1 "$TEACHERS"); do summary "$W/t$s.log"; done
TEACHER_CKPTS=$(ls "$W"/t*/best.pt)
for r in kd7 kd9; do
  weight=0.7; seed=0; [ $r = kd9 ] && weight=0.9 && seed=1
  timeout $((SB + GRACE)) $PY -m training.train --recipe v6kd --teachers $TEACHER_CKPTS --teacher-weight $weight \
    --seed $seed --budget-s "$SB" --device "$DEV" --threads 4 --data "$W/fer.npz" --out-dir "$W/$r" $EXTRA \
    > "$W/$r.log" 2>&1 &
done
wait
stamp students done
for r in kd7 kd9; do summary "$W/$r.log"; last=$(ls "$W"/$r/epoch_*_ema.pt 2>/dev/null | tail -1); \
  [ -n "$last" ] && cp "$last" "$OUT/${r}_last_ema.pt"; done
for s in $(seq 1 "$TEACHERS"); do
  [ -f "$W/t$s/best.pt" ] && $PY -m training.parts split "$W/t$s/best.pt" "$OUT/teacher$s.part1.pt" "$OUT/teacher$s.part2.pt"
done
(cd "$W" && for f in *.log; do tr '\r' '\n' < "$f" | grep -v "batch/s" > "${f%.log}.txt"; done \
  && tar czf "$OUT/logs.tgz" *.txt */history.jsonl)
stamp collected
rm -rf "$W"
ls -la "$OUT"
