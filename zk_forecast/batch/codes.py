"""Exit codes of the nightly batch and of ``zk-forecast``: one table, read by the CLI's ``--help``, the console
summary and the README.

When several apply, the most serious one is returned: a failed report (5) before stale data (4).
"""

from __future__ import annotations

__all__ = ["EXIT_CODES", "EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_REPORT_FAILED", "EXIT_STALE_DATA",
           "EXIT_USAGE", "exit_meaning", "exit_codes_text"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_STALE_DATA = 4
EXIT_REPORT_FAILED = 5

#: code → (中文, English): what the code means.
EXIT_CODES: dict[int, tuple[str, str]] = {
    EXIT_OK: ("已发布", "published"),
    EXIT_FAILED: ("失败：某一步骤出错，上一次发布的结果保持不变",
                  "failed: a step failed; the last published run is unchanged"),
    EXIT_USAGE: ("配置、参数或输入有误（信息中给出修正方法）",
                 "bad configuration, arguments or input (the message says how to fix it)"),
    EXIT_LOCKED: ("另一个夜间批处理正在运行", "another nightly run holds the lock"),
    EXIT_STALE_DATA: ("已发布，但数据过旧（超过 [batch] max_data_age_days），报告带有警示横幅",
                      "published with stale data (older than [batch] max_data_age_days); outputs carry a banner"),
    EXIT_REPORT_FAILED: ("已发布补货单，但有报告生成失败（见 run.log 与 manifest.json）",
                         "published with a failed report: restock lists out, a report failed (see run.log and "
                         "manifest.json)"),
}


def exit_meaning(code: int) -> str:
    """``"中文 / English"`` for an exit code (unknown codes say so)."""
    zh, en = EXIT_CODES.get(code, ("未知", "unknown"))
    return f"{zh} / {en}"


def exit_codes_text() -> str:
    """One line per exit code, for ``--help``."""
    return "\n".join(f"  {code}  {exit_meaning(code)}" for code in sorted(EXIT_CODES))
