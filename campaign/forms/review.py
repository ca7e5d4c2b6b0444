"""Forms of the co-lead review: comments, invitations and accepting one."""

from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..services.draft_comments import MAX_COMMENT
from ..services.users import MIN_PASSWORD
from . import Form


class CommentForm(Form):
    """A comment on one paragraph; the paragraph's number is in the URL."""

    #: Digest of the paragraph as the commenter read it (services.draft_comments.text_digest).
    seen = HiddenField(validators=[Optional(), Length(max=64)])
    # A little slack over MAX_COMMENT so the service, not the form, names the exact length.
    body = TextAreaField(
        "Your comment",
        validators=[
            DataRequired(message="Write your comment, then send it."),
            Length(max=MAX_COMMENT * 2),
        ],
    )

    def for_paragraph(self, number: int) -> "CommentForm":
        """Give the fields ids and a label of their own (one form per paragraph on a page)."""
        self.seen.id = f"seen-{number}"
        self.body.id = f"comment-{number}"
        self.body.label.field_id = self.body.id
        self.body.label.text = f"Your comment on paragraph {number}"
        return self


class CoLeadInviteForm(Form):
    """Whom to invite as co-lead."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])


class AcceptForm(Form):
    """A new co-lead's password (their email is the invitation's)."""

    password = PasswordField(
        "Choose a password",
        validators=[DataRequired()],
        description=f"At least {MIN_PASSWORD} characters.",
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
    )
