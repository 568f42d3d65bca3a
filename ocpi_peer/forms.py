from django import forms


class InviteForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="the CPO's name, for this admin")


class RegisterForm(forms.Form):
    versions_url = forms.URLField(
        max_length=255, assume_scheme="https", help_text="the CPO's OCPI versions endpoint"
    )
    token = forms.CharField(
        max_length=64,
        widget=forms.PasswordInput,
        label="Token A",
        help_text="the registration token the CPO gave us",
    )
    name = forms.CharField(
        max_length=100, required=False, help_text="defaults to its business name"
    )
