using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Campaigns;

/// <summary>A campaign: its definition and its stock's split into shares (<see cref="CampaignStock"/>). Holds are
/// reserved at the shares; the campaign only grants them units, a chunk at a time, and sums their counts for its view.</summary>
[GrainType("campaign")]
public sealed class CampaignGrain(
    [PersistentState("campaign", GrainStorage.Name)] IPersistentState<CampaignState> state,
    TimeProvider timeProvider,
    IOptions<StockOptions> options) : Grain, ICampaignGrain
{
    private CampaignView? _view;
    private long _viewAt;

    private CampaignState State => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        CampaignStock.Split(State);
        return base.OnActivateAsync(cancellationToken);
    }

    public async Task<CampaignView> DefineAsync(CampaignDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Validate() is { } problem)
        {
            throw new InvalidCampaignException(problem);
        }
        var isNew = State.Definition is null;
        CampaignStock.Define(State, definition);
        await state.WriteOrReloadAsync(this);
        if (isNew)
        {
            await GrainFactory.GetGrain<ICampaignCatalogGrain>(0).AddAsync(this.GetPrimaryKeyString());
        }
        var view = (await ReadViewAsync())!;
        _view = null;
        return view;
    }

    public Task<CampaignOffer?> GetOfferAsync() =>
        Task.FromResult(State.Definition is { } definition ? new CampaignOffer(definition, IsActive(definition)) : null);

    /// <summary>The offer with its stock counts summed from the shares (reused for <see cref="StockOptions.ViewCache"/>).</summary>
    public async Task<CampaignView?> GetAsync(CancellationToken cancellationToken = default) =>
        State.Definition is { } definition && _view is not null && Environment.TickCount64 - _viewAt < options.Value.ViewCache.TotalMilliseconds
            ? _view with { Active = IsActive(definition) }
            : await ReadViewAsync();

    private async Task<CampaignView?> ReadViewAsync()
    {
        if (State.Definition is not { } definition)
        {
            return null;
        }
        var counts = await Task.WhenAll(Enumerable.Range(0, State.Shards.Count)
            .Select(i => GrainFactory.GetGrain<IStockShardGrain>(IStockShardGrain.Key(this.GetPrimaryKeyString(), i)).GetCountsAsync()));
        long reserved = 0, sold = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            // Share 0 has not taken the reservations made before the split yet: they count as the campaign recorded them.
            var (r, s) = i == 0 && State.Reservations.Count > 0 ? (State.Shards[0].Reserved, State.Shards[0].Sold) : (counts[i].Reserved, counts[i].Sold);
            reserved += r;
            sold += s;
        }
        _view = new CampaignView(this.GetPrimaryKeyString(), definition, (int)reserved, (int)sold, IsActive(definition));
        _viewAt = Environment.TickCount64;
        return _view;
    }

    public async Task<ShardGrant> SyncShardAsync(int index, ShardReport report)
    {
        var grant = CampaignStock.Sync(State, index, report, timeProvider.GetUtcNow());
        await state.WriteOrReloadAsync(this);
        return grant;
    }

    private bool IsActive(CampaignDefinition definition)
    {
        var now = timeProvider.GetUtcNow();
        return (definition.ActiveFrom is not { } from || now >= from) && (definition.ActiveUntil is not { } until || now < until);
    }
}

[GrainType("campaign-catalog")]
public sealed class CampaignCatalogGrain(
    [PersistentState("catalog", GrainStorage.Name)] IPersistentState<CampaignCatalogState> state) : Grain, ICampaignCatalogGrain
{
    public async Task AddAsync(string campaignId)
    {
        if (state.State.CampaignIds.Add(campaignId))
        {
            await state.WriteOrReloadAsync(this);
        }
    }

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>([.. state.State.CampaignIds.Order(StringComparer.Ordinal)]);
}

[GenerateSerializer, Alias("grouppay.CampaignCatalogState")]
public sealed class CampaignCatalogState
{
    [Id(0)] public HashSet<string> CampaignIds { get; set; } = [];
}
