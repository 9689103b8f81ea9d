"""A vendor's certificate upload, and an admin's decision on one."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from marketplace.certificates.service import MAX_REASON, MAX_SCOPE, NewCertificate
from marketplace.jobs.models import CERTIFICATIONS


class CertificateForm(FlaskForm):
    """Every rule is the service's (certificates.service.upload), so that each message reads the same everywhere."""

    # The service refuses an unknown choice, in its own words.
    kind = SelectField("Certification", choices=[("", "Choose…"), *CERTIFICATIONS.items()], validate_choice=False)
    issuer = StringField("Issued by (the certification body or auditor)")
    scope = TextAreaField(f"Scope: the sites, services and systems it covers (at most {MAX_SCOPE:,} characters)")
    issued_on = DateField("Issued on", validators=[Optional()], render_kw={"type": "date"})
    expires_on = DateField("Expires on", validators=[Optional()], render_kw={"type": "date"})
    file = FileField("The certificate (PDF, PNG or JPEG, at most 10 MB)")

    def to_new(self, filename: str, data: bytes) -> NewCertificate:
        return NewCertificate(
            kind=self.kind.data or "",
            issuer=self.issuer.data or "",
            scope=self.scope.data or "",
            issued_on=self.issued_on.data,
            expires_on=self.expires_on.data,
            filename=filename,
            data=data,
        )


class VerifyForm(FlaskForm):
    """Verifying needs nothing but the CSRF token."""


class RejectForm(FlaskForm):
    reason = TextAreaField(f"Reason (the vendor reads it; at most {MAX_REASON:,} characters)")
