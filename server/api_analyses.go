package server

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/server/ui"
)

// Analyst runs the analyses and answers recommendations; an
// *analytics.Runner is one. It is what the console needs (ui.Analyst),
// and more.
type Analyst interface {
	ui.Analyst
	Run(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p analytics.Params, progress analytics.Progress) (*touchbase.AnalysisRun, error)
	SimilarProducts(ctx context.Context, ws int64, productID string, n int) ([]analytics.Recommendation, error)
	BoughtTogether(ctx context.Context, ws int64, productID string, n int) ([]analytics.Recommendation, error)
}

// registerAnalysisRoutes registers /api/v1/analyses and the
// recommendations of customers and products.
func (s *Server) registerAnalysisRoutes() {
	tags := []string{"analyses"}
	register(s, huma.Operation{
		OperationID: "run-analysis", Method: http.MethodPost, Path: "/analyses/{kind}", Tags: tags,
		Summary: "Run an analysis",
		Description: "Runs rfm, clusters, clv, basket or cohorts with the given parameters (all optional; see docs/analytics.md). " +
			"By default the run goes on in the background and the answer (202) is the run as started: poll " +
			"/analyses/runs/{id}. With wait=true the answer comes when the run has finished, with its result. " +
			"RFM, clusters and CLV write each customer's scores, which segments name as features (rfm.segment, " +
			"cluster, predicted_clv, p_alive, ...).",
		DefaultStatus: http.StatusAccepted,
		Errors:        []int{http.StatusConflict, http.StatusServiceUnavailable},
	}, touchbase.RoleMarketer, s.runAnalysis)
	register(s, huma.Operation{
		OperationID: "get-analysis", Method: http.MethodGet, Path: "/analyses/{kind}", Tags: tags,
		Summary:     "Get an analysis's latest result",
		Description: "The newest successful run of the analysis, with its parameters and result.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.getAnalysis)
	register(s, huma.Operation{
		OperationID: "list-analysis-runs", Method: http.MethodGet, Path: "/analyses/runs", Tags: tags,
		Summary:     "List analysis runs",
		Description: "Every run, newest first: when, on how many customers, with which parameters, how it ended.",
	}, touchbase.RoleAnalyst, s.listAnalysisRuns)
	register(s, huma.Operation{
		OperationID: "get-analysis-run", Method: http.MethodGet, Path: "/analyses/runs/{id}", Tags: tags,
		Summary: "Get an analysis run", Errors: []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.getAnalysisRun)
	register(s, huma.Operation{
		OperationID: "recommend-for-customer", Method: http.MethodGet, Path: "/customers/{id}/recommendations", Tags: []string{"customers"},
		Summary: "Recommend products to a customer",
		Description: "Products bought together with what the customer bought (item-to-item co-occurrence weighted by their " +
			"history), leaving out what they bought already, topped up with what is popular. Each comes with why.",
		Errors: []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.recommendForCustomer)
	register(s, huma.Operation{
		OperationID: "similar-products", Method: http.MethodGet, Path: "/products/{product_id}/similar", Tags: []string{"products"},
		Summary:     "Products similar to a product",
		Description: "Customers who bought this also bought: products most often bought by the same customers.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.similarProducts)
	register(s, huma.Operation{
		OperationID: "bought-together", Method: http.MethodGet, Path: "/products/{product_id}/bought-together", Tags: []string{"products"},
		Summary:     "Products frequently bought together with a product",
		Description: "Products most often in the same order, by lift, with the rule's support and confidence.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.boughtTogether)
}

type analysisKindInput struct {
	Kind string `path:"kind" enum:"rfm,clusters,clv,basket,cohorts" doc:"The analysis."`
}

type runAnalysisInput struct {
	Kind string `path:"kind" enum:"rfm,clusters,clv,basket,cohorts" doc:"The analysis."`
	Wait bool   `query:"wait" doc:"Answer when the run has finished, with its result (200)."`
	Body *analytics.Params
}

type analysisRunOutput struct {
	Status int
	Body   *touchbase.AnalysisRun
}

func (s *Server) runAnalysis(ctx context.Context, k *touchbase.Key, in *runAnalysisInput) (*analysisRunOutput, error) {
	if s.svc.Analyst == nil {
		return nil, touchbase.Errorf(touchbase.EUNAVAILABLE, "this server does not run analyses")
	}
	var p analytics.Params
	if in.Body != nil {
		p = *in.Body
	}
	kind := touchbase.AnalysisKind(in.Kind)
	if !in.Wait {
		run, err := s.svc.Analyst.Start(ctx, k.WorkspaceID, kind, p)
		if err != nil {
			return nil, err
		}
		return &analysisRunOutput{Status: http.StatusAccepted, Body: run}, nil
	}
	run, err := s.svc.Analyst.Run(ctx, k.WorkspaceID, kind, p, nil)
	if err != nil {
		return nil, err
	}
	return &analysisRunOutput{Status: http.StatusOK, Body: run}, nil
}

func (s *Server) getAnalysis(ctx context.Context, k *touchbase.Key, in *analysisKindInput) (*output[*touchbase.AnalysisRun], error) {
	run, err := s.svc.Analyses.LatestAnalysisRun(ctx, k.WorkspaceID, touchbase.AnalysisKind(in.Kind))
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.AnalysisRun]{Body: run}, nil
}

// withProgress adds where each unfinished run stands, when it is under
// way in this server.
func (s *Server) withProgress(runs ...*touchbase.AnalysisRun) {
	if s.svc.Analyst == nil {
		return
	}
	for _, run := range runs {
		if run.FinishedAt == nil {
			if p, ok := s.svc.Analyst.Progress(run.ID); ok {
				run.Progress = &p
			}
		}
	}
}

type listAnalysisRunsInput struct {
	Kind  string `query:"kind" enum:"rfm,clusters,clv,basket,cohorts" doc:"Only this analysis's runs."`
	Limit int    `query:"limit" default:"50" minimum:"1" maximum:"1000"`
}

type analysisRunsPage struct {
	Items []*touchbase.AnalysisRun `json:"items"`
}

func (s *Server) listAnalysisRuns(ctx context.Context, k *touchbase.Key, in *listAnalysisRunsInput) (*output[analysisRunsPage], error) {
	runs, err := s.svc.Analyses.ListAnalysisRuns(ctx, k.WorkspaceID, touchbase.AnalysisKind(in.Kind), in.Limit)
	if err != nil {
		return nil, err
	}
	if runs == nil {
		runs = []*touchbase.AnalysisRun{}
	}
	s.withProgress(runs...)
	return &output[analysisRunsPage]{Body: analysisRunsPage{Items: runs}}, nil
}

type analysisRunInput struct {
	ID int64 `path:"id"`
}

func (s *Server) getAnalysisRun(ctx context.Context, k *touchbase.Key, in *analysisRunInput) (*output[*touchbase.AnalysisRun], error) {
	run, err := s.svc.Analyses.FindAnalysisRun(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	s.withProgress(run)
	return &output[*touchbase.AnalysisRun]{Body: run}, nil
}

type recommendationsPage struct {
	Items []analytics.Recommendation `json:"items"`
}

type customerRecommendationsInput struct {
	ID    int64 `path:"id"`
	Limit int   `query:"limit" default:"10" minimum:"1" maximum:"100"`
}

func (s *Server) recommendForCustomer(ctx context.Context, k *touchbase.Key, in *customerRecommendationsInput) (*output[recommendationsPage], error) {
	if s.svc.Analyst == nil {
		return nil, touchbase.Errorf(touchbase.EUNAVAILABLE, "this server does not recommend")
	}
	// The customer must be this workspace's: a 404 otherwise, not
	// someone else's history.
	if _, err := s.svc.Customers.FindCustomer(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	recs, err := s.svc.Analyst.RecommendForCustomer(ctx, k.WorkspaceID, in.ID, in.Limit)
	return recommendations(recs, err)
}

type productRecommendationsInput struct {
	ID    string `path:"product_id"`
	Limit int    `query:"limit" default:"10" minimum:"1" maximum:"100"`
}

func (s *Server) similarProducts(ctx context.Context, k *touchbase.Key, in *productRecommendationsInput) (*output[recommendationsPage], error) {
	return s.productRecommendations(ctx, k, in, Analyst.SimilarProducts)
}

func (s *Server) boughtTogether(ctx context.Context, k *touchbase.Key, in *productRecommendationsInput) (*output[recommendationsPage], error) {
	return s.productRecommendations(ctx, k, in, Analyst.BoughtTogether)
}

// productRecommendations answers with recommend's products for the
// workspace's product in.ID (404 for a product it does not have).
func (s *Server) productRecommendations(ctx context.Context, k *touchbase.Key, in *productRecommendationsInput,
	recommend func(a Analyst, ctx context.Context, ws int64, productID string, n int) ([]analytics.Recommendation, error)) (*output[recommendationsPage], error) {
	if s.svc.Analyst == nil {
		return nil, touchbase.Errorf(touchbase.EUNAVAILABLE, "this server does not recommend")
	}
	if _, err := s.svc.Orders.FindProduct(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	return recommendations(recommend(s.svc.Analyst, ctx, k.WorkspaceID, in.ID, in.Limit))
}

func recommendations(recs []analytics.Recommendation, err error) (*output[recommendationsPage], error) {
	if err != nil {
		return nil, err
	}
	if recs == nil {
		recs = []analytics.Recommendation{}
	}
	return &output[recommendationsPage]{Body: recommendationsPage{Items: recs}}, nil
}
