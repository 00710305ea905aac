"""The digest (lineage.digest): who gets one, what it says, and how it is delivered: over SMTP to a
tiny server on loopback written here with the standard library, or as .eml files in an outbox."""
from __future__ import annotations

import base64
import email
import email.policy
import itertools
import socket
import socketserver
import threading
from pathlib import Path

import networkx as nx
import pytest
from conftest import run

from lineage import digest, loop
from lineage.accounts import Accounts
from lineage.errors import LineageError, NotFoundError
from lineage.graph import LineageGraph
from lineage.policy import Actor

SINCE = "2020-01-01"
ADMIN = Actor("admin", "admin")
TEXT = 'The bid was approved: £1.2m for 2027, based on 2,300 assessments you recorded. <b>"Thank you"</b>'


# -- a minimal SMTP server on loopback ---------------------------------------------------------


class _Handler(socketserver.StreamRequestHandler):
    timeout = 5  # a stuck client cannot hang the test: reads time out

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        server: SMTPServer = self.server  # type: ignore[assignment]
        self.reply("220 test.local ESMTP ready")
        sender, recipients = None, []
        while line := self.rfile.readline(1000):
            command = line.decode("ascii", "replace").rstrip("\r\n")
            verb, _, rest = command.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.wfile.write(b"250-test.local\r\n250 AUTH PLAIN\r\n")
            elif verb == "HELO":
                self.reply("250 test.local")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(rest.split()[1]).split(b"\0")
                server.logins.append((user.decode(), password.decode()))
                self.reply("235 accepted")
            elif verb == "MAIL":
                sender, recipients = rest.split(":", 1)[1].strip("<> "), []
                self.reply("250 ok")
            elif verb == "RCPT":
                address = rest.split(":", 1)[1].strip("<> ")
                if address in server.refuse:
                    self.reply("550 no such mailbox")
                else:
                    recipients.append(address)
                    self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                server.messages.append((sender, recipients, b"".join(data)))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[str, str]] = []
        self.refuse: set[str] = set()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def received(self) -> dict[str, email.message.EmailMessage]:
        """Each message received, parsed, by its envelope recipient."""
        return {recipients[0]: email.message_from_bytes(data, policy=email.policy.default)
                for _, recipients, data in self.messages}


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- a scene: updates, flags and answers --------------------------------------------------------


@pytest.fixture
def scene(loaded_store, nodes_by_id, nx_flow):
    """Updates on two decisions, flags answered and unanswered; and who should hear of what,
    worked out from the sample files with networkx."""
    store = loaded_store
    accounts = Accounts(store)
    for name, role, person in (("ali", "contributor", "officer-ali"), ("jo", "owner", "owner-jo"),
                               ("claire", "owner", "ad-claire"), ("visitor", "contributor", None)):
        accounts.add(name, "a long enough password", role=role, person=person, actor="setup")
    with store.change("setup", "a contact that is not an email address") as change:
        change.update_node("officer-dev", {"contact": "ext 4412"})
    claire = Actor("claire", "owner", person="ad-claire")
    bid = loop.post_update(store, "prevention-grant-bid", actor=claire, text=TEXT,
                           figures={"gbp_secured": 1_200_000, "people_helped": 2300}, date="2026-10-03")
    payments = loop.post_update(store, "rla-farm-payments", actor=ADMIN, text="Payments made on time")
    g = LineageGraph.from_store(store)
    ali, visitor, jo = (Actor("ali", "contributor", person="officer-ali"), Actor("visitor", "contributor"),
                        Actor("jo", "owner", person="owner-jo"))
    answered = loop.raise_flag(g, store, "housing-register", actor=ali, dimension="timeliness", text="Dates late")
    loop.set_flag_status(store, answered["id"], "acknowledged", actor=jo, reply="Re-registration drive in November")
    orphan = loop.raise_flag(g, store, "void-properties", actor=visitor, text="Voids missing")
    loop.set_flag_status(store, orphan["id"], "wont_fix", actor=jo, reply="They are not voids")
    loop.raise_flag(g, store, "rla-land-parcels", actor=ali, dimension="timeliness", text="Map changes slow")
    kinds = {i: n["kind"] for i, n in nodes_by_id.items()}
    upstream = {p for s in ("prevention-grant-bid", "rla-farm-payments") for p in nx.ancestors(nx_flow, s)
                if kinds[p] == "person"}
    expected = upstream | {"officer-ali", "owner-jo", nodes_by_id["rla-land-parcels"]["owner"]}
    return {"store": store, "graph": g, "bid": bid, "payments": payments, "answered": answered,
            "people": expected, "upstream": upstream}


def test_digest_for_a_person(scene, nx_flow):
    store, g = scene["store"], scene["graph"]
    found = digest.digest_for(g, store, "officer-ali", SINCE)
    assert found.person == {"id": "officer-ali", "name": "Ali Khan", "contact": "ali.khan@northbridge.gov.uk"}
    assert found.accounts == ["ali"] and found.address == "ali.khan@northbridge.gov.uk"
    assert [u["id"] for u in found.updates] == [scene["bid"]["id"]]  # Ali's records do not reach farm payments
    assert _connects(nx_flow, found.updates[0]["path"], "officer-ali", "prevention-grant-bid")
    assert [(e["flag"]["id"], e["status_to"], e["reply"]) for e in found.flag_replies] == [
        (scene["answered"]["id"], "acknowledged", "Re-registration drive in November")]
    assert found.new_flags == []
    assert digest.digest_for(g, store, "ali", SINCE).as_dict() == found.as_dict()  # by account, the same
    assert "contact" not in (found.as_dict()["person"] or {})  # the page's JSON twin does not show addresses

    jo = digest.digest_for(g, store, "owner-jo", SINCE)
    assert [f["dataset"] for f in jo.new_flags] == ["void-properties", "housing-register"]
    assert digest.digest_for(g, store, "officer-ali", "2999-01-01").empty
    visitor = digest.digest_for(g, store, "visitor", SINCE)
    assert visitor.person is None and visitor.address is None and len(visitor.flag_replies) == 1
    with pytest.raises(NotFoundError, match="no person or account called 'nobody'"):
        digest.digest_for(g, store, "nobody", SINCE)


def _connects(nx_flow, path, start, end) -> bool:
    return path[0] == start and path[-1] == end and all(nx_flow.has_edge(a, b) for a, b in itertools.pairwise(path))


def test_everyone_with_something_new_gets_a_digest(scene):
    found = digest.digests(scene["graph"], scene["store"], SINCE)
    people = {d.who for d in found if d.person}
    assert people == scene["people"]
    assert {d.who for d in found if not d.person} == {"visitor"}
    for one in found:
        if one.who in scene["upstream"]:
            assert one.updates and all(u["path"][0] == one.who for u in one.updates)
    assert digest.digests(scene["graph"], scene["store"], "2999-01-01") == []


def test_the_email_text(scene):
    found = digest.digest_for(scene["graph"], scene["store"], "officer-ali", SINCE)
    subject, body = digest.render_text(found)
    assert subject == "Lineage: 1 outcome update, 1 answer to your flags since 1 January 2020"
    assert body.startswith("Hello Ali Khan,\n")
    flat = " ".join(body.split())
    assert TEXT in flat  # the text as typed: plain text, nothing escaped or lost
    assert "2,300 people helped, £1.2m secured" in body
    assert "How your records reach it: Ali Khan → " in flat and "→ Homelessness Prevention Grant bid" in flat
    assert "jo marked it acknowledged" in body and "Re-registration drive in November" in body
    assert all(len(line) <= digest.WIDTH for line in body.splitlines() if not line.startswith("You get"))
    subject, body = digest.render_text(digest.digest_for(scene["graph"], scene["store"], "owner-jo", SINCE))
    assert subject == "Lineage: 2 new flags on your data since 1 January 2020"
    assert "NEW FLAGS ON DATA YOU OWN (2)" in body and "raised by visitor" in body
    empty = digest.render_text(digest.digest_for(scene["graph"], scene["store"], "officer-ali", "2999-01-01"))
    assert "nothing new" in empty.subject and "Nothing new this time." in empty.body


def test_send_over_smtp(scene, smtp_server, nodes_by_id):
    smtp_server.refuse.add("jo.fletcher@northbridge.gov.uk")
    env = {"LINEAGE_SMTP_HOST": "127.0.0.1", "LINEAGE_SMTP_PORT": str(smtp_server.port),
           "LINEAGE_SMTP_USER": "mailer", "LINEAGE_SMTP_PASSWORD": "s3cret", "LINEAGE_SMTP_FROM": "lineage@council.test"}
    summary = digest.send_digests(scene["store"], scene["graph"], SINCE, env=env)
    assert summary.mode == "smtp" and summary.destination == f"127.0.0.1:{smtp_server.port}"
    assert smtp_server.logins == [("mailer", "s3cret")]
    skipped = {s["who"]: s["reason"] for s in summary.skipped}
    assert skipped["officer-dev"] == "no email address in its contact (ext 4412)"
    assert skipped["visitor"] == "its account is not linked to a person"
    assert skipped["owner-jo"].startswith("refused:") and "no such mailbox" in skipped["owner-jo"]
    sent = {s["who"]: s["address"] for s in summary.sent}
    assert set(sent) == scene["people"] - {"officer-dev", "owner-jo"}
    assert all(nodes_by_id[who]["contact"] == address for who, address in sent.items())
    received = smtp_server.received()
    assert set(received) == set(sent.values()) and len(smtp_server.messages) == len(sent)
    message = received["ali.khan@northbridge.gov.uk"]
    assert message["From"] == "lineage@council.test" and message["To"] == "ali.khan@northbridge.gov.uk"
    assert message["Subject"] == "Lineage: 1 outcome update, 1 answer to your flags since 1 January 2020"
    assert message.get_content_type() == "text/plain"
    body = message.get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert body == digest.render_text(digest.digest_for(scene["graph"], scene["store"], "officer-ali", SINCE)).body
    assert "Sent " in str(summary) and "skipped 3" in str(summary)


def test_send_to_one_person(scene, smtp_server):
    env = {"LINEAGE_SMTP_HOST": "127.0.0.1", "LINEAGE_SMTP_PORT": str(smtp_server.port)}
    summary = digest.send_digests(scene["store"], scene["graph"], SINCE, person="ali", env=env)
    assert [s["address"] for s in summary.sent] == ["ali.khan@northbridge.gov.uk"] and smtp_server.logins == []
    assert digest.send_digests(scene["store"], scene["graph"], "2999-01-01", person="ali", env=env).sent == []


def test_an_unreachable_server_is_an_error(scene):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"LINEAGE_SMTP_HOST": "127.0.0.1", "LINEAGE_SMTP_PORT": str(port)}
    with pytest.raises(LineageError, match=f"cannot reach the SMTP server 127.0.0.1:{port}"):
        digest.send_digests(scene["store"], scene["graph"], SINCE, env=env, timeout=5)


def test_without_smtp_the_emails_go_to_the_outbox(scene, tmp_path):
    outbox = tmp_path / "mail"
    summary = digest.send_digests(scene["store"], scene["graph"], SINCE, env={"LINEAGE_OUTBOX": str(outbox)})
    assert summary.mode == "outbox" and summary.sent == [] and summary.destination == str(outbox)
    files = sorted(Path(p).name for p in summary.written)
    assert files == sorted(f"2020-01-01-{who}.eml" for who in scene["people"] - {"officer-dev"})
    message = email.message_from_bytes((outbox / "2020-01-01-officer-ali.eml").read_bytes(), policy=email.policy.default)
    assert message["To"] == "ali.khan@northbridge.gov.uk" and message["From"] == digest.DEFAULT_SENDER
    assert TEXT in " ".join(message.get_content().split())
    assert "Wrote" in str(summary) and "no SMTP server configured" in str(summary)
    # By default, beside the database.
    default = digest.send_digests(scene["store"], scene["graph"], SINCE, person="officer-ali", env={})
    assert default.written == [str(Path(scene["store"].path).resolve().parent / "outbox" / "2020-01-01-officer-ali.eml")]


def test_smtp_settings_from_the_environment():
    assert digest.SmtpSettings.from_env({}) is None
    assert digest.SmtpSettings.from_env({"LINEAGE_SMTP_HOST": " "}) is None
    plain = digest.SmtpSettings.from_env({"LINEAGE_SMTP_HOST": "mail.test"})
    assert (plain.port, plain.starttls, plain.user, plain.sender) == (25, False, None, "lineage@localhost")
    tls = digest.SmtpSettings.from_env({"LINEAGE_SMTP_HOST": "mail.test", "LINEAGE_SMTP_STARTTLS": "true",
                                        "LINEAGE_SMTP_USER": "u", "LINEAGE_SMTP_PASSWORD": "p",
                                        "LINEAGE_SMTP_FROM": "x@y.test"})
    assert (tls.port, tls.starttls, tls.user, tls.password, tls.sender) == (587, True, "u", "p", "x@y.test")
    with pytest.raises(LineageError, match="LINEAGE_SMTP_PORT must be a port number"):
        digest.SmtpSettings.from_env({"LINEAGE_SMTP_HOST": "mail.test", "LINEAGE_SMTP_PORT": "smtp"})


def test_header_injection_is_impossible(scene):
    # A decision name with a line break cannot add headers: the subject is one line.
    store = scene["store"]
    with store.change("setup", "a hostile name") as change:
        change.update_node("prevention-grant-bid", {"name": "Bid\r\nBcc: everyone@example.test"})
    g = LineageGraph.from_store(store)
    found = digest.digest_for(g, store, "officer-ali", SINCE)
    message = digest.email_message(found, "lineage@council.test")
    assert message["Bcc"] is None and "\n" not in message["Subject"]


# -- the command line ---------------------------------------------------------------------------


def test_cli_digest_prints_sends_and_writes(scene, runner, smtp_server, tmp_path):
    db = scene["store"].path
    printed = run(runner, ["--db", db, "digest", "--since", SINCE, "--person", "officer-ali"],
                  env={"LINEAGE_SMTP_HOST": None})
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith("To: ali.khan@northbridge.gov.uk\nSubject: Lineage: 1 outcome update")
    assert TEXT in " ".join(printed.output.split())
    everyone = run(runner, ["--db", db, "digest", "--since", SINCE], env={"LINEAGE_SMTP_HOST": None})
    assert everyone.output.count("\nSubject: ") + everyone.output.startswith("Subject: ") == len(scene["people"]) + 1
    assert run(runner, ["--db", db, "digest", "--since", "2999-01-01"]).output == \
        "Nothing new for anyone since 2999-01-01.\n"

    outbox = tmp_path / "out"
    written = run(runner, ["--db", db, "digest", "--since", SINCE, "--send"],
                  env={"LINEAGE_SMTP_HOST": None, "LINEAGE_OUTBOX": str(outbox)})
    assert written.exit_code == 0 and f"Wrote {len(scene['people']) - 1} digests to {outbox}" in written.output
    assert "officer-dev: no email address" in written.output
    assert len(list(outbox.glob("*.eml"))) == len(scene["people"]) - 1

    sent = run(runner, ["--db", db, "digest", "--since", SINCE, "--send", "--person", "ali"],
               env={"LINEAGE_SMTP_HOST": "127.0.0.1", "LINEAGE_SMTP_PORT": str(smtp_server.port)})
    assert sent.exit_code == 0 and sent.output == f"Sent 1 digest through 127.0.0.1:{smtp_server.port}.\n"
    assert list(smtp_server.received()) == ["ali.khan@northbridge.gov.uk"]

    bad = run(runner, ["--db", db, "digest", "--since", "last week"])
    assert bad.exit_code == 1 and "expected a date like 2026-10-01" in bad.output
