"""Signals core sends for apps above it (core imports no app; they connect in their AppConfig.ready).

`membership_deactivated(sender=Membership, membership=…, by=…)`: sent inside the transaction that
deactivated the membership (or took its evaluator role); receivers move the member's open work and
return a report (a dict) that the lead is shown."""

from django.dispatch import Signal

membership_deactivated = Signal()
