package server

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
)

// registerOrderRoutes registers /api/v1/orders and /api/v1/products.
func (s *Server) registerOrderRoutes() {
	register(s, huma.Operation{
		OperationID: "list-orders", Method: http.MethodGet, Path: "/orders", Tags: []string{"orders"},
		Summary:     "List orders",
		Description: "Orders of the workspace with their items, newest first.",
	}, touchbase.RoleAnalyst, s.listOrders)
	register(s, huma.Operation{
		OperationID: "get-order", Method: http.MethodGet, Path: "/orders/{order_id}", Tags: []string{"orders"},
		Summary:     "Get an order",
		Description: "One order by the store's order id, with its items.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.getOrder)
	register(s, huma.Operation{
		OperationID: "list-products", Method: http.MethodGet, Path: "/products", Tags: []string{"products"},
		Summary:     "List products",
		Description: "The catalogue, by product id.",
	}, touchbase.RoleAnalyst, s.listProducts)
	register(s, huma.Operation{
		OperationID: "get-product", Method: http.MethodGet, Path: "/products/{product_id}", Tags: []string{"products"},
		Summary: "Get a product",
		Errors:  []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.getProduct)
}

type listOrdersInput struct {
	CustomerID int64     `query:"customer_id" doc:"Only this customer's orders."`
	Status     string    `query:"status" enum:"completed,partially_refunded,refunded,cancelled"`
	Since      time.Time `query:"since" doc:"Placed at or after this time (RFC 3339)."`
	Until      time.Time `query:"until" doc:"Placed before this time (RFC 3339)."`
	Limit      int       `query:"limit" minimum:"1" maximum:"1000" default:"50"`
	Cursor     string    `query:"cursor"`
}

func (s *Server) listOrders(ctx context.Context, k *touchbase.Key, in *listOrdersInput) (*output[*Page[*touchbase.Order]], error) {
	items, next, err := s.svc.Orders.ListOrders(ctx, k.WorkspaceID, touchbase.OrderFilter{
		CustomerID: in.CustomerID, Status: touchbase.OrderStatus(in.Status),
		Since: in.Since, Until: in.Until, After: in.Cursor, Limit: in.Limit,
	})
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Order]]{Body: newPage(items, next)}, nil
}

type orderIDInput struct {
	OrderID string `path:"order_id" doc:"The store's order id."`
}

func (s *Server) getOrder(ctx context.Context, k *touchbase.Key, in *orderIDInput) (*output[*touchbase.Order], error) {
	o, err := s.svc.Orders.FindOrder(ctx, k.WorkspaceID, in.OrderID)
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.Order]{Body: o}, nil
}

type listProductsInput struct {
	Category string `query:"category" doc:"Only products of this category."`
	Q        string `query:"q" doc:"Match product id, SKU or name."`
	Limit    int    `query:"limit" minimum:"1" maximum:"1000" default:"50"`
	Cursor   string `query:"cursor"`
}

func (s *Server) listProducts(ctx context.Context, k *touchbase.Key, in *listProductsInput) (*output[*Page[*touchbase.Product]], error) {
	items, next, err := s.svc.Orders.ListProducts(ctx, k.WorkspaceID, touchbase.ProductFilter{
		Category: in.Category, Query: in.Q, After: in.Cursor, Limit: in.Limit,
	})
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Product]]{Body: newPage(items, next)}, nil
}

type productIDInput struct {
	ProductID string `path:"product_id" doc:"The product id."`
}

func (s *Server) getProduct(ctx context.Context, k *touchbase.Key, in *productIDInput) (*output[*touchbase.Product], error) {
	p, err := s.svc.Orders.FindProduct(ctx, k.WorkspaceID, in.ProductID)
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.Product]{Body: p}, nil
}
