"""Service promises stated as data and measured: KPIs, the price check and the maintenance-due list.

The layer stays thin: :mod:`.commitments` states the promises, :mod:`.kpis` measures them on tickets and part
issues, :mod:`.pricing` checks that a part costs the same everywhere, :mod:`.reminders` lists the machines due a
service or a follow-up visit.
"""

from zk_forecast.service.commitments import DEFAULT_PROMISES, Promises
from zk_forecast.service.kpis import KPI_COLUMNS, ServiceKPIs, service_kpis, wear_list_keys
from zk_forecast.service.pricing import PRICE_COLUMNS, PriceDifferences, price_differences
from zk_forecast.service.reminders import REMINDER_COLUMNS, Reminders, maintenance_due

__all__ = [
    "DEFAULT_PROMISES",
    "KPI_COLUMNS",
    "PRICE_COLUMNS",
    "REMINDER_COLUMNS",
    "PriceDifferences",
    "Promises",
    "Reminders",
    "ServiceKPIs",
    "maintenance_due",
    "price_differences",
    "service_kpis",
    "wear_list_keys",
]
