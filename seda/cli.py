"""`flask --app wsgi seda …`: operator commands."""

import click
from flask.cli import AppGroup

from seda.accounts import deletion
from seda.auth.passwords import hash_password
from seda.common.schemas import Email
from seda.exports import services as exports
from seda.mail import compose
from seda.mail.services import send_now
from seda.mail.transports import MailFailure
from seda.notifications import digests
from seda.push import sending as push
from seda.users.services import create_or_promote_admin
from seda.verification import checks

seda_cli = AppGroup("seda", help="seda operator commands.")


@seda_cli.command("create-admin")
@click.option("--email", required=True, help="The admin's email; an existing account is promoted.")
@click.option("--password", required=True, help="The admin's password (8-128 characters).")
@click.option("--super", "super_admin", is_flag=True, help="Make a SUPER_ADMIN instead of an ADMIN.")
def create_admin(email, password, super_admin):
    """Create an admin account, or promote and reset the account with that email."""
    try:
        email = Email().deserialize(email)
    except Exception as exc:
        raise click.BadParameter(f"not a valid email address: {email}") from exc
    if not 8 <= len(password) <= 128:
        raise click.BadParameter("the password must be 8 to 128 characters long")
    user = create_or_promote_admin(email, hash_password(password), super_admin)
    click.echo(f"{user.role.value} {user.email} ({user.id})")


@seda_cli.command("sweep")
def sweep():
    """Run the periodic jobs once, now: verification (expiry, stuck checks, re-checks), expired
    exports, the purge of deleted accounts past their purgeAt, and expired push subscriptions."""
    counts = {
        **checks.sweep(),
        "exports_expired": exports.expire(),
        "accounts_purged": deletion.purge_due(),
        **push.sweep(),
    }
    click.echo(" ".join(f"{name}={count}" for name, count in counts.items()))


@seda_cli.command("digest")
def digest():
    """Send the due email digests once, now (beat runs this every EMAIL_DIGEST_CHECK_SECONDS)."""
    click.echo(f"digests_sent={digests.send_due()}")


@seda_cli.command("send-test-mail")
@click.option("--to", "address", required=True, help="Where the test mail goes.")
def send_test_mail(address):
    """Send one mail through the configured transport (SMTP_URL, else the outbox folder) now."""
    try:
        address = Email().deserialize(address)
    except Exception as exc:
        raise click.BadParameter(f"not a valid email address: {address}") from exc
    try:
        through = send_now(compose.test_mail(address))
    except MailFailure as failure:
        kind = "temporary" if failure.temporary else "permanent"
        raise click.ClickException(f"not sent ({kind}): {failure}") from None
    click.echo(f"sent to {address} through {through}")
