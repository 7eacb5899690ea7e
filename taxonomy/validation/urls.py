app_name = "validation"
urlpatterns = []
