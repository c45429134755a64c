# Customer development (issue 4): prospects, their pipeline, pool claims and the target scorecard.

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('customers', '0004_customer_pool'),
        ('org', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ScorecardItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('characteristic', models.PositiveSmallIntegerField(choices=[(1, 'State-supported or encouraged industry'), (2, 'Competitive advantage over its peers'), (3, 'Good market reputation and a high credit rating'), (4, 'High-tech products that sell widely, with fast cash return'), (5, 'Sound financial structure and good growth'), (6, 'Flexible mechanisms, scientific management, sound governance'), (7, "Matches the bank's service capacity"), (8, 'Unmet financial needs that can bring the bank returns'), (9, 'Operating well'), (10, 'Managers with vision and strong management ability'), (11, 'A region with good prospects'), (12, 'Stable suppliers and customers'), (13, 'Quality staff and a known name'), (14, 'Needs and can use bank services, bringing business volume')], unique=True, verbose_name='characteristic')),
                ('weight', models.DecimalField(decimal_places=2, max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='weight')),
                ('max_rating', models.PositiveSmallIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10)], verbose_name='highest rating')),
            ],
            options={
                'verbose_name': 'scorecard item',
                'verbose_name_plural': 'scorecard items',
                'ordering': ['characteristic'],
            },
        ),
        migrations.CreateModel(
            name='PoolRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('approval_required', models.BooleanField(default=False, verbose_name="claims need the team lead's approval")),
                ('contact_days', models.PositiveSmallIntegerField(default=10, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(90)], verbose_name='working days to first contact')),
                ('unit', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='org.orgunit', verbose_name='unit')),
            ],
            options={
                'verbose_name': 'pool rule',
                'verbose_name_plural': 'pool rules',
            },
        ),
        migrations.CreateModel(
            name='Prospect',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                ('archived_at', models.DateTimeField(blank=True, null=True, verbose_name='archived at')),
                ('source', models.PositiveSmallIntegerField(choices=[(1, 'Internet, TV, radio, newspapers and other media'), (2, 'Government economic departments'), (3, 'Industry research departments and associations'), (4, 'Professional consultancies'), (5, 'Public publications (statistical yearbooks, phone directories)'), (6, 'Other banks and securities firms'), (7, 'Professional seminars and exchange meetings'), (8, "The bank's own archive materials"), (9, "The RM's personal contacts"), (10, 'Upstream and downstream of existing customers'), (11, 'Guarantors of existing customers'), (12, 'Affiliates of existing customers')], verbose_name='source')),
                ('source_detail', models.CharField(blank=True, max_length=200, verbose_name='source detail')),
                ('found_on', models.DateField(verbose_name='found on')),
                ('stage', models.CharField(choices=[('identified', 'Identified'), ('contacted', 'Contacted'), ('visited', 'Visited'), ('proposal', 'Proposal'), ('won', 'Won (account opened or contract signed)'), ('dropped', 'Dropped')], default='identified', max_length=12, verbose_name='stage')),
                ('stage_changed_at', models.DateTimeField(verbose_name='in this stage since')),
                ('drop_reason', models.CharField(blank=True, max_length=200, verbose_name='reason for dropping')),
                ('won_evidence', models.CharField(blank=True, max_length=100, verbose_name='account or signed contract')),
                ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed at')),
                ('contact_due', models.DateField(blank=True, null=True, verbose_name='first contact due')),
                ('score', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='target score')),
                ('scorecard_version', models.PositiveIntegerField(default=0, verbose_name='scorecard version')),
                ('customer', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='prospect', to='customers.customer', verbose_name='customer')),
                ('found_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='found_prospects', to=settings.AUTH_USER_MODEL, verbose_name='found by')),
                ('merged_into', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged_prospects', to='customers.customer', verbose_name='merged into')),
                ('referring_customer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='referred_prospects', to='customers.customer', verbose_name='referring customer')),
                ('referring_relationship', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='customers.relationship', verbose_name='referring relationship')),
            ],
            options={
                'verbose_name': 'prospect',
                'verbose_name_plural': 'prospects',
            },
        ),
        migrations.CreateModel(
            name='ItemRating',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('characteristic', models.PositiveSmallIntegerField(choices=[(1, 'State-supported or encouraged industry'), (2, 'Competitive advantage over its peers'), (3, 'Good market reputation and a high credit rating'), (4, 'High-tech products that sell widely, with fast cash return'), (5, 'Sound financial structure and good growth'), (6, 'Flexible mechanisms, scientific management, sound governance'), (7, "Matches the bank's service capacity"), (8, 'Unmet financial needs that can bring the bank returns'), (9, 'Operating well'), (10, 'Managers with vision and strong management ability'), (11, 'A region with good prospects'), (12, 'Stable suppliers and customers'), (13, 'Quality staff and a known name'), (14, 'Needs and can use bank services, bringing business volume')], verbose_name='characteristic')),
                ('rating', models.PositiveSmallIntegerField(verbose_name='rating')),
                ('reason', models.CharField(blank=True, max_length=200, verbose_name='reason')),
                ('origin', models.CharField(choices=[('data', 'From the archive'), ('rm', 'Rated by the RM')], max_length=10, verbose_name='origin')),
                ('rated_at', models.DateTimeField(verbose_name='rated at')),
                ('rated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='rated by')),
                ('prospect', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ratings', to='development.prospect', verbose_name='prospect')),
            ],
            options={
                'verbose_name': 'item rating',
                'verbose_name_plural': 'item ratings',
            },
        ),
        migrations.CreateModel(
            name='Claim',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('status', models.CharField(choices=[('pending', 'Awaiting the team lead'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('withdrawn', 'Withdrawn')], default='pending', max_length=10, verbose_name='status')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('rm', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='prospect_claims', to=settings.AUTH_USER_MODEL, verbose_name='RM')),
                ('prospect', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='claims', to='development.prospect', verbose_name='prospect')),
            ],
            options={
                'verbose_name': 'claim',
                'verbose_name_plural': 'claims',
            },
        ),
        migrations.CreateModel(
            name='Scorecard',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                ('threshold', models.DecimalField(decimal_places=2, default=Decimal('60'), max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0')), django.core.validators.MaxValueValidator(Decimal('100'))], verbose_name='target threshold (0–100)')),
                ('encouraged_industries', models.JSONField(blank=True, default=list, verbose_name='encouraged industries')),
                ('promising_regions', models.JSONField(blank=True, default=list, verbose_name='promising regions')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='updated by')),
            ],
            options={
                'verbose_name': 'target scorecard',
                'verbose_name_plural': 'target scorecards',
            },
        ),
        migrations.CreateModel(
            name='StageChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_stage', models.CharField(blank=True, choices=[('identified', 'Identified'), ('contacted', 'Contacted'), ('visited', 'Visited'), ('proposal', 'Proposal'), ('won', 'Won (account opened or contract signed)'), ('dropped', 'Dropped')], max_length=12, verbose_name='from stage')),
                ('to_stage', models.CharField(choices=[('identified', 'Identified'), ('contacted', 'Contacted'), ('visited', 'Visited'), ('proposal', 'Proposal'), ('won', 'Won (account opened or contract signed)'), ('dropped', 'Dropped')], max_length=12, verbose_name='to stage')),
                ('changed_at', models.DateTimeField(verbose_name='changed at')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('changed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='changed by')),
                ('prospect', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='stage_changes', to='development.prospect', verbose_name='prospect')),
            ],
            options={
                'verbose_name': 'stage change',
                'verbose_name_plural': 'stage changes',
                'ordering': ['prospect_id', 'changed_at', 'pk'],
            },
        ),
        migrations.AddIndex(
            model_name='prospect',
            index=models.Index(fields=['stage', 'contact_due'], name='prospect_stage_due'),
        ),
        migrations.AddIndex(
            model_name='prospect',
            index=models.Index(fields=['scorecard_version'], name='prospect_scorecard_version'),
        ),
        migrations.AddIndex(
            model_name='prospect',
            index=models.Index(fields=['referring_customer'], name='prospect_referrer'),
        ),
        migrations.AddConstraint(
            model_name='prospect',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('stage', 'dropped'), _negated=True), models.Q(('drop_reason', ''), _negated=True), _connector='OR'), name='prospect_dropped_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='itemrating',
            constraint=models.UniqueConstraint(fields=('prospect', 'characteristic'), name='one_rating_per_item'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('prospect',), name='one_pending_claim_per_prospect'),
        ),
        migrations.AddIndex(
            model_name='stagechange',
            index=models.Index(fields=['to_stage', 'changed_at'], name='stage_change_to_at'),
        ),
    ]
