"""The Members page's form: whom to add to a campaign, and as what."""

from wtforms import EmailField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..services.members import KINDS
from . import Form


class MemberForm(Form):
    """An existing account's address and the part they take in this campaign."""

    email = EmailField(
        "Their account's email",
        validators=[DataRequired(message="Enter the email of their account."), Length(max=254)],
    )
    role = RadioField(
        "Add them as",
        choices=[SelectChoice(value, label) for value, label in KINDS.items()],
        default="staff",
        validators=[DataRequired(message="Choose what they may do.")],
    )
