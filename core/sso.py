"""OpenID Connect settings from the environment (read by concord/settings.py; no Django imports here).

Off unless OIDC_RP_CLIENT_ID is set. With OIDC_OP_JWKS_ENDPOINT the provider's tokens are checked
with its published keys (RS256), otherwise with the client secret (HS256)."""


def oidc_settings(env) -> dict:
    """Django settings of the OpenID Connect client from the environment ({} when it is off)."""
    client_id = (env.get("OIDC_RP_CLIENT_ID") or "").strip()
    if not client_id:
        return {}
    jwks = (env.get("OIDC_OP_JWKS_ENDPOINT") or "").strip()
    settings = {
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": env.get("OIDC_RP_CLIENT_SECRET", ""),
        "OIDC_OP_AUTHORIZATION_ENDPOINT": env.get("OIDC_OP_AUTHORIZATION_ENDPOINT", ""),
        "OIDC_OP_TOKEN_ENDPOINT": env.get("OIDC_OP_TOKEN_ENDPOINT", ""),
        "OIDC_OP_USER_ENDPOINT": env.get("OIDC_OP_USER_ENDPOINT", ""),
        "OIDC_RP_SIGN_ALGO": env.get("OIDC_RP_SIGN_ALGO") or ("RS256" if jwks else "HS256"),
        "OIDC_RP_SCOPES": env.get("OIDC_RP_SCOPES") or "openid email profile",
    }
    if jwks:
        settings["OIDC_OP_JWKS_ENDPOINT"] = jwks
    return settings
