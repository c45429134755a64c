# A lead's or branch head's customer list counts and sorts their units' customers on this index alone (issue 3).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0004_customer_pool'),
        ('org', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['owning_unit', 'archived_at', 'name'], name='customer_unit_list'),
        ),
    ]
