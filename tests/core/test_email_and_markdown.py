from core.email import CONSOLE, email_settings
from core.markdown import render_markdown


def test_console_backend_by_default():
    settings = email_settings({})
    assert settings["EMAIL_BACKEND"] == CONSOLE
    assert settings["DEFAULT_FROM_EMAIL"] == "concord@localhost"


def test_smtp_url_parsed():
    settings = email_settings(
        {"EMAIL_URL": "smtp+tls://user:p%40ss@mail.example.org:587", "DEFAULT_FROM_EMAIL": "team@example.org"}
    )
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert settings["EMAIL_HOST"] == "mail.example.org"
    assert settings["EMAIL_PORT"] == 587
    assert settings["EMAIL_USE_TLS"] is True
    assert settings["EMAIL_HOST_USER"] == "user"
    assert settings["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert settings["DEFAULT_FROM_EMAIL"] == settings["SERVER_EMAIL"] == "team@example.org"


def test_console_url():
    assert email_settings({"EMAIL_URL": "consolemail://"})["EMAIL_BACKEND"] == CONSOLE


def test_markdown_rendered():
    html = render_markdown("# Guide\n\nLabel the **root cause**, not the symptom.\n\n- one\n- two")
    assert "<h1>Guide</h1>" in html
    assert "<strong>root cause</strong>" in html
    assert "<li>one</li>" in html


def test_markdown_sanitised():
    html = render_markdown(
        '<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src="http://t/x.png"> '
        '<a href="https://ok.example" onclick="x()">ok</a>'
    )
    assert "<script" not in html and "alert(1)</script>" not in html
    assert "javascript:" not in html
    assert "<img" not in html
    assert "onclick" not in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_blank_is_empty():
    assert render_markdown("  \n") == ""
    assert render_markdown(None) == ""
