"""The loop every Python parity stage runs: check each case folder under out_dir that holds
ts-outputs.safetensors, print one ok/FAIL line per case and `RESULT cases=<n> failures=<k>` last."""
import os


def run_cases(out_dir, stage, check):
    """check(case_dir) -> (problems, note): a case passes when problems is empty; note (or None) follows its ok line."""
    cases = sorted(d for d in os.listdir(out_dir) if os.path.isfile(os.path.join(out_dir, d, "ts-outputs.safetensors")))
    failures = 0
    for case in cases:
        try:
            problems, note = check(os.path.join(out_dir, case))
        except Exception as e:  # noqa: BLE001 - a case that cannot be loaded is a failure, not a crash
            problems, note = [f"{type(e).__name__}: {e}"], None
        if problems:
            failures += 1
            print(f"FAIL {stage} {case}: " + "; ".join(problems[:5]))
        else:
            print(f"ok   {stage} {case}" + (f" ({note})" if note else ""))
    print(f"RESULT cases={len(cases)} failures={failures}")
    return 1 if failures else 0
