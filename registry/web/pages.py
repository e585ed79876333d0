"""Home, sign-in and sign-out, and the PDF upload of the public verification page."""

from __future__ import annotations

from flask import current_app, redirect, request, url_for

from certificates import render as certificate_render
from certificates import services as certificates
from certificates.api import limiter, verify_page_context
from certificates.ratelimit import retry_after_header
from registry.accounts.throttle import TooManyAttempts, authenticate_throttled
from registry.core.db import db
from registry.core.errors import Invalid, NotFound, Unauthorized
from registry.web.base import blp, home_of, page_account, render, safe_next, sign_in, sign_out


def home():
    """The HTML home page (the app's `/` answers JSON to API clients)."""
    return render("home.html", dashboard=home_of(page_account()) if page_account() else None)


@blp.get("/sign-in")
def sign_in_page():
    if page_account() is not None:
        return redirect(home_of(page_account()))
    return render("sign_in.html", errors={}, general=[], email="", next=safe_next(request.args.get("next")))


@blp.post("/sign-in")
def sign_in_submit():
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    target = safe_next(request.form.get("next"))
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = ["enter your e-mail address"]
    if not password:
        errors["password"] = ["enter your password"]
    if not errors:
        try:
            account = authenticate_throttled(email[:254], password[:1024], request.remote_addr)
        except TooManyAttempts as exc:
            # The same answer whether or not the account exists; the password was not checked.
            page, status = render("sign_in.html", status=429, errors={}, general=[exc.detail], email=email,
                                  next=target)
            return page, status, {"Retry-After": str(exc.retry_after)}
        except Unauthorized as exc:
            db.session.rollback()
            errors["password"] = [exc.detail]
        else:
            sign_in(account)
            return redirect(target or home_of(account))
    return render("sign_in.html", status=401 if "password" in errors and email and password else 422,
                  errors=errors, general=["Signing in did not work; see the fields below."], email=email,
                  next=target)


@blp.post("/sign-out")
def sign_out_submit():
    sign_out()
    return redirect(url_for("index"))


@blp.post("/verify")
def verify_upload():
    """A certificate PDF uploaded on the verification page; the same checks and log as POST /api/v1/verify."""
    context = {"token": "", "code": "", "result": None, "error": None, **verify_page_context()}
    status = 200
    headers = {"Cache-Control": "no-store"}
    wait = limiter().take(request.remote_addr or "unknown")  # the API's per-address rate
    upload = request.files.get("file")
    if wait is not None:
        context["error"], status = context["t"]["too_many"], 429
        headers["Retry-After"] = retry_after_header(wait)
    elif upload is None or not upload.filename:
        context["error"], status = context["t"]["pdf_label"], 422
    else:
        try:
            checked = certificates.check_pdf(upload.read())
            certificates.log_verification(checked, page_account())
            db.session.commit()
            context["result"] = checked.as_dict()
        except (Invalid, NotFound) as exc:
            db.session.rollback()
            context["error"], status = exc.detail, exc.status
    html = certificate_render.page_html("verify_page.html", **context)
    return current_app.response_class(html, status=status, mimetype="text/html", headers=headers)
