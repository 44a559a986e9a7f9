"""The results view's sign-in: roles and scopes (access), Cognito ID tokens (identity), the
pool's keys (jwks), the session cookie and CSRF tokens (session). Only the results function
imports this package (it ships PyJWT for it); the shared layer does not."""
