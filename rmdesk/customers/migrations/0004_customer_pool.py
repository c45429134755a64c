# Customer development (issue 4): a prospect may wait in its unit's pool (公海) with no primary RM.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0003_search_rm_unit'),
        ('org', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='customer',
            name='primary_rm',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='primary_customers', to=settings.AUTH_USER_MODEL, verbose_name='primary RM'),
        ),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.CheckConstraint(condition=models.Q(('primary_rm__isnull', False), ('status__in', ('prospect', 'target')), _connector='OR'), name='customer_unassigned_only_in_pool'),
        ),
    ]
