namespace GroupPay.Grains.Campaigns;

[GrainType("campaign")]
public sealed class CampaignGrain(
    [PersistentState("campaign", GrainStorage.Name)] IPersistentState<CampaignState> state,
    TimeProvider timeProvider) : Grain, ICampaignGrain
{
    private CampaignState State => state.State;

    public async Task<CampaignView> DefineAsync(CampaignDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Validate() is { } problem)
        {
            throw new InvalidCampaignException(problem);
        }
        var isNew = State.Definition is null;
        State.Definition = definition;
        await state.WriteStateAsync();
        if (isNew)
        {
            await GrainFactory.GetGrain<ICampaignCatalogGrain>(0).AddAsync(this.GetPrimaryKeyString());
        }
        return View(definition);
    }

    public Task<CampaignView?> GetAsync() =>
        Task.FromResult(State.Definition is { } definition ? View(definition) : null);

    public async Task ReserveAsync(string reservationId, string openid)
    {
        ArgumentException.ThrowIfNullOrEmpty(reservationId);
        ArgumentException.ThrowIfNullOrEmpty(openid);
        var definition = State.Definition ?? throw new UnknownCampaignException(this.GetPrimaryKeyString());
        if (State.Reservations.ContainsKey(reservationId))
        {
            return;
        }
        if (!IsActive(definition))
        {
            throw new CampaignClosedException("The campaign is not active.");
        }
        if (State.Reservations.Count >= definition.Stock)
        {
            throw new CampaignClosedException("The campaign is sold out.");
        }
        if (State.Reservations.Values.Count(r => r.Openid == openid) >= definition.PerUserLimit)
        {
            throw new CampaignClosedException($"At most {definition.PerUserLimit} per user.");
        }
        State.Reservations[reservationId] = new StockReservation(openid, Sold: false);
        await state.WriteStateAsync();
    }

    public async Task ConfirmAsync(string reservationId)
    {
        if (State.Reservations.TryGetValue(reservationId, out var reservation) && !reservation.Sold)
        {
            State.Reservations[reservationId] = reservation with { Sold = true };
            await state.WriteStateAsync();
        }
    }

    public async Task ReleaseAsync(string reservationId)
    {
        if (State.Reservations.Remove(reservationId))
        {
            await state.WriteStateAsync();
        }
    }

    private bool IsActive(CampaignDefinition definition)
    {
        var now = timeProvider.GetUtcNow();
        return (definition.ActiveFrom is not { } from || now >= from) && (definition.ActiveUntil is not { } until || now < until);
    }

    private CampaignView View(CampaignDefinition definition)
    {
        var sold = State.Reservations.Values.Count(r => r.Sold);
        return new CampaignView(this.GetPrimaryKeyString(), definition, State.Reservations.Count - sold, sold, IsActive(definition));
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
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>([.. state.State.CampaignIds.Order(StringComparer.Ordinal)]);
}

[GenerateSerializer, Alias("grouppay.CampaignCatalogState")]
public sealed class CampaignCatalogState
{
    [Id(0)] public HashSet<string> CampaignIds { get; set; } = [];
}
