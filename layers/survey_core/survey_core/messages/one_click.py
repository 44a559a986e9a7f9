"""RFC 8058 one-click unsubscribe: the body a mail client POSTs to the List-Unsubscribe URL, and
the List-Unsubscribe-Post header's value that offers it. Apart from email.py (which composes the
messages) so that the survey pages, which only read such a POST, do not import the email
package's header machinery at a cold start (make bench: cold start)."""

ONE_CLICK = "List-Unsubscribe=One-Click"
