"""What people read: emails, SMS texts and pages (templates, rendering, languages)."""
