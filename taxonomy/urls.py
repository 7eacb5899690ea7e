app_name = "taxonomy"
urlpatterns = []
