using GroupPay.Grains.Archive;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Reconciliation;
using GroupPay.Grains.Referrals;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

namespace GroupPay.Grains;

public static class GrainServiceCollectionExtensions
{
    /// <summary>What the grains need in a silo besides Orleans itself and the WeChat Pay client: the clock,
    /// the figures' and ledger's store (<see cref="RedisTallyStore"/>; what groups and users count is written with their state by <see cref="CountedGrainStorage"/>), the users' invitees and reward ledgers (<see cref="ReferralStore"/>), the order timings (section <c>Orders</c>), the split stock's (section <c>Stock</c>), the settled groups' and users' archive (<c>ConnectionStrings:Archive</c>, PostgreSQL; none when unset), the users' retention (section <c>Referrals</c>), the operator queue's
    /// gauges (<see cref="OperatorQueueMetrics"/>), and the daily reconciliation's settings (section <c>Reconciliation</c>)
    /// and the start of its schedule (<see cref="ReconciliationStarter"/>).</summary>
    public static IServiceCollection AddGroupPayGrains(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<TallyStoreOptions>().BindConfiguration("TallyStore");
        services.TryAddSingleton<RedisTallyStore>();
        services.TryAddSingleton<IPaymentLedger>(sp => sp.GetRequiredService<RedisTallyStore>());
        services.TryAddSingleton<ReferralStore>();
        services.AddOptions<OrderOptions>().BindConfiguration(OrderOptions.SectionName);
        services.AddOptions<StockOptions>().BindConfiguration(StockOptions.SectionName);
        services.TryAddSingleton<ArchiveDatabase>();
        services.TryAddSingleton(sp => PostgresGroupArchive.From(sp.GetRequiredService<ArchiveDatabase>(), sp.GetRequiredService<Serializer>()));
        services.TryAddSingleton(sp => PostgresUserArchive.From(sp.GetRequiredService<ArchiveDatabase>(), sp.GetRequiredService<Serializer>()));
        services.AddOptions<ReferralOptions>().BindConfiguration(ReferralOptions.SectionName);
        services.AddMetrics();
        services.TryAddSingleton<OutboxMetrics>();
        services.TryAddSingleton<OrderMetrics>();
        services.TryAddSingleton<OperatorQueueMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<OperatorQueueMetrics>());
        services.AddOptions<ReconciliationOptions>().BindConfiguration(ReconciliationOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReconciliationOptions>, ReconciliationOptionsValidator>());
        services.AddHostedService<ReconciliationStarter>();
        return services;
    }
}
