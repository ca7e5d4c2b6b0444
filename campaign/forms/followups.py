"""The shape of a follow-up step; the service checks the templates."""

from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from . import Form


class FollowUpForm(Form):
    """If a target has not responded N days after delivery, send this letter."""

    days_after = IntegerField(
        "Days after delivery",
        validators=[
            InputRequired("enter a number of days"),
            NumberRange(1, 365, "enter a number of days from 1 to 365"),
        ],
        description="Sent only to targets who have not replied by then.",
    )
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(
        "Follow-up letter",
        validators=[DataRequired()],
        render_kw={"rows": 12},
        description="Markdown with the merge fields of the letter, e.g. {{ target.name }}.",
    )
    notify_coalition = BooleanField(
        "Tell co-signers who asked for updates when it goes out", default=True
    )
