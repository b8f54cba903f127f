"""Mail as the operator configures it and as a recipient receives it: through a real SMTP
server on loopback (plain, STARTTLS, implicit TLS, with a login), or into the outbox folder in
the embedded default; retried on a temporary failure, dropped on a permanent one."""

import logging
import ssl
from pathlib import Path

import pytest
import trustme

from seda.common.request_id import current_request_id
from seda.mail import compose, services
from tests.helpers.mail import MailSink, outbox


@pytest.fixture
def tls():
    """A CA the client trusts (SMTP_CA_BUNDLE) and a certificate for 127.0.0.1 signed by it."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    return ca, server


@pytest.fixture
def sink():
    started = []

    def start(**kwargs):
        started.append(MailSink(**kwargs).start())
        return started[-1]

    yield start
    for one in started:
        one.stop()


def send_from(app, message_of):
    with app.app_context():
        services.send(message_of())


def test_without_smtp_url_a_mail_is_written_whole_into_the_outbox_and_logged_with_its_links(app, caplog):
    caplog.set_level(logging.WARNING, logger="seda.mail.transports")
    with app.app_context():
        send_from(app, lambda: compose.password_reset("ada@example.com", "t" * 43))
    [mail] = outbox(app)
    assert mail["Subject"] == "Reset your seda password" and mail["To"] == "ada@example.com"
    assert mail["From"] == "seda <no-reply@localhost>" and mail["Auto-Submitted"] == "auto-generated"
    assert mail["Date"] and mail["Message-ID"].startswith("<") and mail.get_content_type() == "text/plain"
    link = "http://localhost:3000/reset-password?token=" + "t" * 43
    assert link in mail.get_content()
    [line] = [r.getMessage() for r in caplog.records if "ada@example.com" in r.getMessage()]
    assert "Reset your seda password" in line and link in line
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    assert folder.stat().st_mode & 0o777 == 0o700
    assert [path.name for path in folder.iterdir() if path.name.startswith(".")] == []  # nothing left aside


def test_in_production_the_outbox_log_line_never_holds_a_link(app_factory, caplog):
    caplog.set_level(logging.WARNING, logger="seda.mail.transports")
    app = app_factory(APP_ENV="production")
    send_from(app, lambda: compose.password_reset("ada@example.com", "t" * 43))
    assert outbox(app)
    assert not [r for r in caplog.records if "token=" in r.getMessage()]


def test_with_smtp_url_a_mail_goes_to_the_smtp_server_and_not_to_the_outbox(app_factory, sink):
    server = sink()
    app = app_factory(SMTP_URL=server.url())
    send_from(app, lambda: compose.email_verification("ada@example.com", "v" * 43))
    [mail] = server.wait_for(1)
    assert mail["Subject"] == "Confirm your email for seda"
    assert "http://localhost:3000/verify-email?token=" + "v" * 43 in mail.get_content()
    assert server.envelopes[0].rcpt_tos == ["ada@example.com"]
    assert outbox(app) == []


def test_starttls_is_used_when_offered_and_required_by_smtp_starttls(app_factory, sink, tls, tmp_path):
    ca, server_context = tls
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = sink(tls_context=server_context, require_starttls=True)
    for scheme in ("smtp", "smtp+starttls"):
        app = app_factory(SMTP_URL=server.url(scheme), SMTP_CA_BUNDLE=str(bundle))
        send_from(app, lambda: compose.password_changed("ada@example.com"))
    assert len(server.wait_for(2)) == 2


def test_smtp_starttls_refuses_a_server_without_starttls_and_drops_the_mail(app_factory, sink, caplog):
    server = sink()
    app = app_factory(SMTP_URL=server.url("smtp+starttls"))
    with app.app_context():
        services.deliver(bytes(_a_mail(app)).decode())
    assert server.messages == []
    assert any("does not offer STARTTLS" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_smtps_speaks_tls_from_the_start(app_factory, sink, tls, tmp_path):
    ca, server_context = tls
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = sink(implicit_tls=server_context)
    app = app_factory(SMTP_URL=server.url("smtps"), SMTP_CA_BUNDLE=str(bundle))
    send_from(app, lambda: compose.password_changed("ada@example.com"))
    assert server.wait_for(1)[0]["Subject"] == "Your seda password was changed"


def test_credentials_are_percent_decoded_and_sent_to_a_loopback_server(app_factory, sink):
    server = sink(login=("mailer@example.com", "p@ss:word"))
    app = app_factory(SMTP_URL=server.url(credentials="mailer%40example.com:p%40ss%3Aword@"))
    send_from(app, lambda: compose.password_changed("ada@example.com"))
    assert server.wait_for(1)


def test_a_temporary_failure_is_tried_again_later_and_then_delivered(app_factory, sink, monkeypatch):
    from datetime import timedelta

    monkeypatch.setattr(services, "RETRY_AFTER", (timedelta(seconds=0.2),) * 3)
    server = sink(reply="451 4.3.0 try again later")
    app = app_factory(SMTP_URL=server.url())
    with app.app_context():
        services.deliver(bytes(_a_mail(app)).decode())  # refused: queued again in 0.2 s
        server.reply = None
    assert server.wait_for(1)[0]["Subject"] == "Your seda password was changed"


def test_a_permanent_failure_is_logged_with_the_request_id_and_dropped(app_factory, sink):
    logged = []

    class Capture(logging.Handler):
        def emit(self, record):  # the request id as the JSON log line carries it
            logged.append((record.levelno, record.getMessage(), current_request_id()))

    capture = Capture()
    logging.getLogger("seda.mail.services").addHandler(capture)
    server = sink(reply="550 5.1.1 no such user")
    app = app_factory(SMTP_URL=server.url())
    try:
        with app.app_context():
            services.deliver(bytes(_a_mail(app)).decode(), 0, "req-42")
    finally:
        logging.getLogger("seda.mail.services").removeHandler(capture)
    [(level, message, request_id)] = logged
    assert level == logging.ERROR and "dropped" in message and "550" in message and request_id == "req-42"
    assert server.messages == []


def test_send_test_mail_reports_what_happened(app_factory, sink):
    server = sink()
    app = app_factory(SMTP_URL=server.url())
    result = app.test_cli_runner().invoke(args=["seda", "send-test-mail", "--to", "ops@example.com"])
    assert result.exit_code == 0, result.output
    assert f"through smtp://127.0.0.1:{server.port}" in result.output
    assert server.wait_for(1)[0]["Subject"] == "seda test mail"
    refused = app_factory(SMTP_URL="smtp://127.0.0.1:1").test_cli_runner()
    failed = refused.invoke(args=["seda", "send-test-mail", "--to", "ops@example.com"])
    assert failed.exit_code != 0 and "not sent (temporary)" in failed.output


def _a_mail(app):
    with app.app_context():
        return compose.password_changed("ada@example.com")
