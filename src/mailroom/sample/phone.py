"""How iPhone Mail (iOS 12) writes a message: quoted-printable UTF-8, photos inline with
the rest of the text after them (see `clients` for the table)."""

from __future__ import annotations

from mailroom.sample.draft import Draft, Written, threading_headers
from mailroom.sample.mime import Header, Part, b64, digest, encode_header, qp, rfc2231, rfc5322_date

# --- iPhone Mail --------------------------------------------------------------------------

def iphone(draft: Draft) -> Written:
    key = digest(draft.key + "apple", 32).upper()
    uuid = f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}"
    message_id = f"<{uuid}@{draft.domain}>"
    boundary = f"Apple-Mail-{digest(draft.key + 'amb', 32).upper()[:8]}-{uuid[9:]}"
    signature = "发自我的iPhone"
    headers: list[Header] = [
        ("From", f"{encode_header(draft.sender_name, 'utf-8')} <{draft.sender}>"),
        ("Mime-Version", "1.0 (1.0)"),
        ("Date", rfc5322_date(draft.sent_at)),
        ("Subject", encode_header(draft.subject, "utf-8")),
        ("Message-Id", message_id),
        *threading_headers(draft),
        ("To", draft.to),
        ("X-Mailer", "iPhone Mail (16E227)"),
        *draft.extra_headers,
    ]
    if not draft.attachments:
        body = f"{draft.text}\n\n{signature}".encode()
        top = Part([("Content-Type", "text/plain;\n\tcharset=utf-8"),
                    ("Content-Transfer-Encoding", "quoted-printable"), *headers], qp(body))
        return Written(top.render(), message_id)
    children = [Part([("Content-Type", "text/plain;\n\tcharset=utf-8"),
                      ("Content-Transfer-Encoding", "quoted-printable")],
                     qp(draft.text.encode() + b"\n"))]
    for number, item in enumerate(draft.attachments):
        part_url = f"{digest(draft.key + str(number), 8).upper()}-{uuid[9:]}"
        if item.filename.isascii():
            type_name, disposition = f"name={item.filename}", f"filename={item.filename}"
        else:
            type_name = f'name="{encode_header(item.filename, "utf-8", limit=998)}"'
            disposition = rfc2231("filename", item.filename, charset="utf-8", width=998)[0]
        children.append(Part([
            ("Content-Type", f"{item.content_type};\n\t{type_name};\n\t"
                             f"x-apple-part-url={part_url}"),
            ("Content-Disposition", f"inline;\n\t{disposition}"),
            ("Content-Transfer-Encoding", "base64"),
        ], b64(item.data)))
    children.append(Part([("Content-Type", "text/plain;\n\tcharset=utf-8"),
                          ("Content-Transfer-Encoding", "base64")],
                         b64(f"\n\n{signature}".encode())))
    top = Part([("Content-Type", f"multipart/mixed; boundary={boundary}"),
                ("Content-Transfer-Encoding", "7bit"), *headers],
               children=children, boundary=boundary, gap=True)
    return Written(top.render(), message_id)

