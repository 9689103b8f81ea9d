"""A local SMTP server that catches every message the demo sends (aiosmtpd), one .eml file each.

    python dev/mail_catcher.py --port 8025 --folder instance/mail

./run-demo starts it; read the mail at http://127.0.0.1:5000/dev/mail (while DEMO_LOGINS is on) or in the folder.
"""

import argparse
import threading
import time
from email.utils import formatdate
from pathlib import Path

from aiosmtpd.controller import Controller


class SaveToFolder:
    """aiosmtpd handler: write each message to FOLDER/<time>-<n>.eml."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            name = f"{time.time_ns()}-{self.count:05d}.eml"
        content = envelope.original_content or envelope.content
        if b"\nDate:" not in content.split(b"\r\n\r\n", 1)[0] and not content.startswith(b"Date:"):
            content = f"Date: {formatdate(localtime=True)}\r\n".encode() + content
        (self.folder / name).write_bytes(content)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--folder", default="instance/mail")
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(SaveToFolder(folder), hostname=args.host, port=args.port)
    controller.start()
    print(f"Catching mail on {args.host}:{args.port} into {folder}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
