"""tests/api/smtp_sink.py — a minimal SMTP server on 127.0.0.1 for the alert
tests: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, several transactions
per connection. It records every message it accepts, and can be told to
refuse recipients for a while (451, temporary, or 550, permanent) or be
stopped and started again on the same port (a relay that is down).

Only the standard library (socketserver, email).
"""
import email
import email.policy
import socket
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        sink = self.server.sink
        with sink.lock:
            sink.conns.add(self.request)
        try:
            self.reply("220 sink.test ESMTP")
            mail_from, rcpts = None, []
            while True:
                raw = self.rfile.readline(65536)
                if not raw:
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line[:4].upper()
                if verb == "EHLO":
                    self.wfile.write(b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n")
                    self.wfile.flush()
                elif verb == "HELO":
                    self.reply("250 sink.test")
                elif verb == "MAIL":
                    mail_from, rcpts = line.split(":", 1)[1].strip(), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    mode = sink.mode
                    if mode == "temporary":
                        sink.refused.append(("451", line))
                        self.reply("451 4.7.1 try again later")
                    elif mode == "permanent":
                        sink.refused.append(("550", line))
                        self.reply("550 5.1.1 no such mailbox")
                    else:
                        rcpts.append(line.split(":", 1)[1].strip())
                        self.reply("250 OK")
                elif verb == "DATA":
                    if not rcpts:
                        self.reply("554 no valid recipients")
                        continue
                    self.reply("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while True:
                        l = self.rfile.readline(1 << 20)
                        if not l or l == b".\r\n":
                            break
                        if l.startswith(b".."):
                            l = l[1:]
                        data += l
                    msg = email.message_from_bytes(bytes(data), policy=email.policy.default)
                    with sink.lock:
                        sink.messages.append({"from": mail_from, "rcpts": list(rcpts),
                                              "raw": bytes(data), "msg": msg})
                    self.reply("250 OK queued")
                    mail_from, rcpts = None, []
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    self.reply("250 OK")
                elif verb == "NOOP":
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 command not implemented")
        except OSError:
            pass
        finally:
            with sink.lock:
                sink.conns.discard(self.request)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Sink:
    """The sink: messages (dicts with from, rcpts, raw, msg), mode ("ok",
    "temporary", "permanent"), start() and stop()."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.refused = []
        self.conns = set()
        self.mode = "ok"
        self.port = 0
        self.server = None
        self.start()

    def start(self):
        self.server = _Server(("127.0.0.1", self.port), _Handler)
        self.server.sink = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        """Closes the listening socket and every open connection: the relay
        is down until start()."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for c in list(self.conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.server = None

    def to(self, address):
        """The messages whose envelope names address."""
        with self.lock:
            return [m for m in self.messages if "<%s>" % address in m["rcpts"]]
