from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import projects_for_user


@login_required
def home(request):
    projects = projects_for_user(user=request.user)
    return render(request, "labelling/home.html", {"projects": projects})
