using GroupPay.Gateway;

return await GatewayHost.RunAsync(args);

/// <summary>The gateway's entry point; public so tests can boot it (<c>WebApplicationFactory&lt;Program&gt;</c>).</summary>
public partial class Program;
