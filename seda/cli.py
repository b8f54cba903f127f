"""`flask --app wsgi seda …`: operator commands."""

from pathlib import Path

import click
from flask.cli import AppGroup

from seda.accounts import deletion
from seda.auth.passwords import hash_password
from seda.chat import cards
from seda.common.schemas import Email
from seda.docs.markdown import api_markdown
from seda.exports import services as exports
from seda.mail import compose
from seda.mail.services import send_now
from seda.mail.transports import MailFailure
from seda.notifications import digests
from seda.push import sending as push
from seda.users.services import create_or_promote_admin, find_by_email
from seda.verification import checks

seda_cli = AppGroup("seda", help="seda operator commands.")
DOCS_FILE = Path(__file__).resolve().parents[1] / "docs" / "API.md"


@seda_cli.command("create-admin")
@click.option("--email", required=True, help="The admin's email; an existing account is promoted.")
@click.option(
    "--password",
    help="The password (8-128 characters). Asked for, unechoed, when a new account is made without it;"
    " an existing account keeps its own unless this is given.",
)
@click.option("--super", "super_admin", is_flag=True, help="Make a SUPER_ADMIN instead of an ADMIN.")
def create_admin(email, password, super_admin):
    """Create an admin account, or promote the account with that email (its password stays
    unless --password is given). Says which it did."""
    try:
        email = Email().deserialize(email)
    except Exception as exc:
        raise click.BadParameter(f"not a valid email address: {email}") from exc
    if password is None and find_by_email(email) is None:
        password = click.prompt("Password for the new admin", hide_input=True, confirmation_prompt=True)
    if password is not None and not 8 <= len(password) <= 128:
        raise click.BadParameter("the password must be 8 to 128 characters long")
    user, created = create_or_promote_admin(email, hash_password(password) if password else None, super_admin)
    if created:
        click.echo(f"created {user.role.value} {user.email} ({user.id})")
    else:
        kept = "password reset" if password else "password unchanged"
        click.echo(f"promoted {user.email} ({user.id}) to {user.role.value}; {kept}")


@seda_cli.command("sweep")
def sweep():
    """Run the periodic jobs once, now: verification (expiry, stuck checks, re-checks), expired
    exports, the purge of deleted accounts past their purgeAt, expired push subscriptions, and
    unfurls left pending by a lost retry."""
    counts = {
        **checks.sweep(),
        "exports_expired": exports.expire(),
        "accounts_purged": deletion.purge_due(),
        **push.sweep(),
        "unfurls_resumed": cards.resume_stale_unfurls(),
    }
    click.echo(" ".join(f"{name}={count}" for name, count in counts.items()))


@seda_cli.command("docs")
@click.option("--out", default=str(DOCS_FILE), show_default=True, help="Where to write the Markdown.")
def write_docs(out):
    """Write docs/API.md again: every REST route and Socket.IO event, from the code's documents."""
    Path(out).write_text(api_markdown(), encoding="utf-8")
    click.echo(f"wrote {out}")


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
