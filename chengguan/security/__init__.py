"""Security: sign-in hardening, content security policy, privacy masking and audit, safe uploads."""
