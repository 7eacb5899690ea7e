from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Project


@login_required
def home(request):
    projects = Project.objects.filter(memberships__user=request.user, memberships__is_active=True).distinct()
    return render(request, "labelling/home.html", {"projects": projects})
