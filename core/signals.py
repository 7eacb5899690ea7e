"""Signals of core.

- Audit records of sign-ins (and failures), sign-outs and membership changes (from any path: pages,
  API, admin, commands).
- Signals core sends for apps above it (core imports no app; they connect in their AppConfig.ready):
  `membership_deactivated(sender=Membership, membership=…, by=…)`, sent inside the transaction that
  deactivated the membership (or took its evaluator role); receivers move the member's open work and
  return a report (a dict) that the lead is shown."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from core.audit import audit_record
from core.models import Membership


@receiver(user_logged_in, dispatch_uid="concord_audit_sign_in")
def _signed_in(sender, request, user, **kwargs):
    audit_record(action="sign_in", actor=user, target=user.get_username(), request=request)


@receiver(user_login_failed, dispatch_uid="concord_audit_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username", ""))[:150]
    audit_record(action="sign_in_failed", target=username, request=request)


@receiver(user_logged_out, dispatch_uid="concord_audit_sign_out")
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="sign_out", actor=user, target=user.get_username(), request=request)


def _roles(m: Membership) -> dict:
    return {"lead": m.is_lead, "moderator": m.is_moderator, "evaluator": m.is_evaluator, "active": m.is_active}


@receiver(post_save, sender=Membership, dispatch_uid="concord_audit_membership_saved")
def _membership_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    audit_record(
        action="membership.add" if created else "membership.change",
        project=instance.project,
        target=instance.user.get_username(),
        details=_roles(instance),
    )


@receiver(post_delete, sender=Membership, dispatch_uid="concord_audit_membership_removed")
def _membership_removed(sender, instance, **kwargs):
    audit_record(action="membership.remove", project=instance.project, target=instance.user.get_username())


membership_deactivated = Signal()
