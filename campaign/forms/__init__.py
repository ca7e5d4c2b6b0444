"""Flask-WTF forms: they check the shape of input; services check its meaning."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    ColorField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Email, Length, NumberRange, Optional, Regexp

from ..errors import Invalid
from ..letters.look import MARGIN_RANGE
from ..models import TIERS
from ..services.partners import CONTROL_CHARS
from ..services.users import account_email

TIER_CHOICES = [SelectChoice(t, t.capitalize()) for t in TIERS]


def _drop_control_chars(value):
    # NUL and other control characters are never meant, and PostgreSQL refuses NUL in text.
    if isinstance(value, str):
        return CONTROL_CHARS.sub("", value)
    return value


class Form(FlaskForm):
    """Base form: strips control characters from every text field (tabs and newlines stay)."""

    class Meta:
        """Adds the control-character filter to every bound field."""

        def bind_field(self, form, unbound_field, options):
            """Bind a field with the shared filter prepended to its own."""
            filters = [_drop_control_chars, *unbound_field.kwargs.get("filters", [])]
            return unbound_field.bind(form=form, filters=filters, **options)


def account_address(_form, field):
    """Accept exactly the addresses `flask create-user` accepts (one shared rule)."""
    try:
        account_email(field.data)
    except Invalid as exc:
        raise ValidationError(exc.reason) from exc


class LoginForm(Form):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), account_address])
    password = PasswordField("Password", validators=[DataRequired()])


class ConfirmForm(Form):
    """A button-only form: carries the CSRF token for a state-changing POST."""


class CampaignForm(Form):
    """A new campaign's basics."""

    title = StringField("Campaign title", validators=[DataRequired(), Length(max=200)])
    lead_organisation = StringField(
        "Lead organisation", validators=[DataRequired(), Length(max=200)]
    )
    lead_address = TextAreaField(
        "Lead organisation's address", validators=[Optional(), Length(max=500)]
    )
    deadline = DateTimeLocalField(
        "Signing deadline (UTC)",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message="Enter a date and time, e.g. 2026-12-31 17:00.")],
    )


class LetterForm(Form):
    """The letter's subject and Markdown body with merge fields."""

    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    # No length here: the service enforces TEMPLATE_MAX_BYTES (configurable), and
    # MAX_UPLOAD_BYTES caps the request itself.
    body = TextAreaField("Letter", validators=[DataRequired()])


class TargetForm(Form):
    """A recipient of the letter."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    title = StringField("Title", validators=[Optional(), Length(max=200)])
    organisation = StringField("Organisation", validators=[Optional(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    salutation = StringField(
        "Salutation", validators=[Optional(), Length(max=200)], description="e.g. Dear Ms Rivera"
    )
    postal_address = TextAreaField(
        "Postal address",
        validators=[Optional(), Length(max=1000)],
        description="Optional. Printed under the name on this target's copy, line by line.",
    )
    fallback_email = EmailField(
        "Fallback email",
        validators=[Optional(), Email(), Length(max=254)],
        description="Optional. Where the letter goes if the main address bounces.",
    )

    def validate_fallback_email(self, field):
        """A fallback that is the main address again would never help."""
        main = (self.email.data or "").strip().casefold()
        if field.data and field.data.strip().casefold() == main:
            raise ValidationError("Use a different address from the main email, or leave it empty.")


class PartnerForm(Form):
    """One partner organisation."""

    organisation = StringField("Organisation", validators=[DataRequired(), Length(max=200)])
    contact_name = StringField("Contact name", validators=[Optional(), Length(max=200)])
    contact_email = EmailField(
        "Contact email", validators=[DataRequired(), Email(), Length(max=254)]
    )
    website = StringField(
        "Website", validators=[Optional(), URL(require_tld=False), Length(max=300)]
    )
    tier = SelectField("Tier", choices=TIER_CHOICES, default="national")
    allow_duplicate = BooleanField("Add anyway: it is a different organisation")


class ImportForm(Form):
    """A CSV or XLSX file of partners."""

    file = FileField(
        "CSV or Excel (.xlsx) file",
        validators=[DataRequired(message="Choose a .csv or .xlsx file.")],
    )


class SignForm(Form):
    """What a partner gives when signing."""

    organisation = StringField("Organisation", validators=[DataRequired(), Length(max=200)])
    signer_name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    signer_title = StringField("Your title", validators=[Optional(), Length(max=200)])
    signer_email = EmailField("Your email", validators=[DataRequired(), Email(), Length(max=254)])
    logo = FileField("Logo (PNG, JPEG or WebP, up to 2 MB)")
    #: Optional personal signature: typed, drawn on the page (JavaScript), or a picture.
    signature_typed = StringField("Type your signature", validators=[Optional(), Length(max=200)])
    signature_drawn = HiddenField()
    signature_file = FileField("Or upload a picture of your signature (PNG, JPEG or WebP)")
    authorised = BooleanField(
        "I am authorised to sign on behalf of this organisation.",
        validators=[DataRequired(message="Tick this box to confirm you may sign.")],
    )
    #: Optional; its label is the campaign's exact consent wording, set by the view.
    contact_consent = BooleanField("Contact consent")
    wants_updates = BooleanField("Tell us when a target replies, and about follow-ups")
    #: Asked only for a name starting with = + - or @ (see services/org_names.py).
    confirm_organisation = BooleanField("Print the name exactly as written")
    visibility = RadioField(
        "How should your organisation appear?",
        choices=[
            SelectChoice("listed", "List our name on the letter"),
            SelectChoice(
                "after_delivery",
                "List our name, but only once the letter has been delivered to its targets",
            ),
            SelectChoice("private", "Support privately: count us, but never list our name"),
        ],
        default="listed",
    )


class ForwardForm(Form):
    """Hand the signing link to a colleague who may sign."""

    colleague_name = StringField("Colleague's name", validators=[DataRequired(), Length(max=200)])
    colleague_email = EmailField(
        "Colleague's email", validators=[DataRequired(), Email(), Length(max=254)]
    )
    note = TextAreaField("A note for them (optional)", validators=[Optional(), Length(max=1000)])


class PublicSignForm(SignForm):
    """A public sign-up: the signing fields plus what we know of invited partners."""

    website = StringField(
        "Organisation website", validators=[Optional(), URL(require_tld=False), Length(max=300)]
    )
    tier = SelectField(
        "Your organisation works",
        choices=[
            SelectChoice("national", "Nationally"),
            SelectChoice("state", "Across a state or region"),
            SelectChoice("local", "Locally"),
        ],
        default="local",
    )


class AssignReplyForm(Form):
    """Tie an unmatched reply to a target; the view lists the targets the user may pick."""

    target_id = SelectField("Whose reply is this?", coerce=int, validate_choice=True)


class RejectForm(Form):
    """Why a public sign-up is rejected (shown to the signer)."""

    reason = StringField("Reason", validators=[DataRequired(), Length(max=1000)])


class SourceForm(Form):
    """An email domain or IP address, to block or to invalidate signatures from."""

    kind = SelectField(
        "Kind", choices=[SelectChoice("domain", "Email domain"), SelectChoice("ip", "IP address")]
    )
    value = StringField("Domain or IP", validators=[DataRequired(), Length(max=254)])
    reason = StringField("Reason (for invalidation)", validators=[Optional(), Length(max=1000)])


class ReminderForm(Form):
    """When unsigned partners are reminded."""

    reminder_days = StringField(
        "Remind unsigned partners this many days before the deadline",
        validators=[Optional(), Length(max=40)],
        description="Comma-separated, e.g. 7, 1. Leave empty for no reminders.",
    )


class LetterheadForm(Form):
    """The letterhead and look of the letter: lead organisation, logo, colour and paper."""

    lead_organisation = StringField(
        "Lead organisation", validators=[DataRequired(), Length(max=200)]
    )
    lead_address = TextAreaField(
        "Lead organisation's address", validators=[Optional(), Length(max=500)]
    )
    logo = FileField("Lead organisation's logo (PNG, JPEG or WebP, up to 2 MB)")
    remove_logo = BooleanField("Remove the current logo")
    # The service checks the colour again: it is written into the letter's CSS.
    accent_colour = ColorField(
        "Accent colour",
        validators=[
            DataRequired(),
            Regexp(r"^#[0-9a-fA-F]{6}\Z", message="Enter a colour like #1d4e89."),
        ],
        description="Used for the letterhead rule, the lead organisation's name and headings.",
    )
    page_size = RadioField(
        "Paper size",
        choices=[SelectChoice("A4", "A4 (210 × 297 mm)"), SelectChoice("Letter", "US Letter")],
        default="A4",
    )
    margin_mm = IntegerField(
        "Page margins (mm)",
        validators=[
            DataRequired(message=f"Enter a number from {MARGIN_RANGE[0]} to {MARGIN_RANGE[1]}."),
            NumberRange(*MARGIN_RANGE),
        ],
        description=f"From {MARGIN_RANGE[0]} to {MARGIN_RANGE[1]} mm. 20 mm suits most letters.",
    )
    signature_style = RadioField(
        "Signature block",
        choices=[
            SelectChoice("list", "A list of names, grouped by tier"),
            SelectChoice("logo_wall", "A wall of logos, grouped by tier"),
            SelectChoice("names", "Names only, in compact columns (60 to 100 a page)"),
        ],
        default="list",
    )
    list_earlier_signers = BooleanField(
        "List signers of earlier versions who have not re-confirmed (marked)"
    )


class DeadlineForm(Form):
    """A campaign's new signing deadline."""

    deadline = DateTimeLocalField(
        "New signing deadline (UTC)",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message="Enter a date and time, e.g. 2026-12-31 17:00.")],
    )
